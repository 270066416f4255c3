"""Checkpoints: the plan's fingerprint, foreign state refused, no secrets, atomic replacement."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest

from scout_async import CheckpointMismatchError, NotFoundError, Progress
from scout_async._bulk import checkpoint as checkpoint_module
from scout_async._bulk.checkpoint import Checkpoint, CheckpointFile, Plan
from scout_async._bulk.selection import select
from scout_async.sinks import JsonlSink
from scout_async.testing import Fault
from tests.bulk.backfill_worker import (
    SECRET,
    T0,
    check_rows,
    client_of,
    data_requests,
    expected_rows,
    read_rows,
    simulator,
    window,
)

H = timedelta(hours=1)
M = timedelta(minutes=1)
JOB: dict[str, Any] = {
    "apps": [101, 102],
    "metrics": ["apdex", "errors"],
    "start": T0,
    "end": T0 + 3 * H,
    "resolution": "1m",
}
CHUNKS_PER_SERIES = 3


def plan(**changes: Any) -> Plan:
    fields: dict[str, Any] = {
        "selection": select([101, 102], ["apdex"]),
        "start": T0,
        "end": T0 + H,
        "step": M,
        "sink": "jsonl:/tmp/a.jsonl",
    } | changes
    return Plan(**fields)


@pytest.mark.parametrize(
    "changes",
    [
        {"selection": select([101], ["apdex"])},
        {"selection": select([101, 102], ["apdex", "errors"])},
        {"selection": select("all", ["apdex"])},
        {"start": T0 + M},
        {"end": T0 + 2 * H},
        {"step": 2 * M},
        {"sink": "jsonl:/tmp/b.jsonl"},
        {"sink": "csv:/tmp/a.jsonl"},
    ],
)
def test_fingerprint_covers_every_part_of_the_plan(changes: dict[str, Any]) -> None:
    assert plan().fingerprint() == plan().fingerprint()
    assert plan(**changes).fingerprint() != plan().fingerprint()


def test_fingerprint_covers_the_planner_version(monkeypatch: pytest.MonkeyPatch) -> None:
    before = plan().fingerprint()
    monkeypatch.setattr(checkpoint_module, "PLANNER_VERSION", 99)
    assert plan().fingerprint() != before


def test_fingerprint_ignores_order_and_duplicates_of_the_selection() -> None:
    assert select([102, 101, 101], ["errors", "apdex"]) == select([101, 102], ["apdex", "errors"])


async def test_a_complete_rerun_fetches_nothing(tmp_path: Path) -> None:
    sim = simulator()
    async with client_of(sim) as client:
        first = await client.backfill(**JOB, sink=tmp_path / "a.jsonl", checkpoint=tmp_path / "s")
        sent = len(sim.requests)
        again = await client.backfill(**JOB, sink=tmp_path / "a.jsonl", checkpoint=tmp_path / "s")
    assert first.ok
    assert again.ok
    assert first.chunks == 4 * CHUNKS_PER_SERIES
    assert again.points == 0
    assert len(sim.requests) == sent
    check_rows(read_rows(tmp_path / "a.jsonl"), expected_rows(**_rows_job()))


def _rows_job() -> dict[str, Any]:
    return {
        "apps": JOB["apps"],
        "metrics": JOB["metrics"],
        "start": JOB["start"],
        "end": JOB["end"],
        "step": M,
    }


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"metrics": ["apdex"]}, "metrics"),
        ({"apps": [101, 102, 103]}, "apps"),
        ({"apps": "all"}, "apps"),
        ({"end": T0 + 4 * H}, "end"),
        ({"start": T0 - H}, "start"),
        ({"resolution": "2m"}, "step_seconds"),
        ({"sink": "other.jsonl"}, "sink"),
        ({"sink": "a.csv"}, "sink"),
    ],
)
async def test_a_foreign_checkpoint_is_refused_before_any_request(
    changes: dict[str, Any], named: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    sim = simulator()
    async with client_of(sim) as client:
        await client.backfill(**JOB, sink="a.jsonl", checkpoint="state.json")
        before = (tmp_path / "state.json").read_bytes()
        sent = len(sim.requests)
        job = JOB | {"sink": "a.jsonl"} | changes
        with pytest.raises(CheckpointMismatchError, match=named) as info:
            await client.backfill(**job, checkpoint="state.json")
    assert len(sim.requests) == sent
    assert (tmp_path / "state.json").read_bytes() == before
    assert info.value.checkpoint_path == str(tmp_path / "state.json")
    assert "delete it" in str(info.value)


@pytest.mark.parametrize(
    "content",
    [b"", b"not json", b"[]", b'{"format": "something else"}', b'{"format": 1}'],
)
async def test_a_file_that_is_no_checkpoint_is_refused(content: bytes, tmp_path: Path) -> None:
    (tmp_path / "state.json").write_bytes(content)
    sim = simulator()
    async with client_of(sim) as client:
        with pytest.raises(CheckpointMismatchError, match="cannot resume"):
            await client.backfill(
                **JOB, sink=tmp_path / "a.jsonl", checkpoint=tmp_path / "state.json"
            )
    assert sim.requests == []


@pytest.mark.parametrize(
    ("tamper", "match"),
    [
        (lambda d: d["series"][0].update(done_until="2026-03-01T00:30:00Z"), "boundary"),
        (lambda d: d["series"].append(d["series"][0]), "twice"),
        (lambda d: d["series"][0].update(app_id="101"), "bad series"),
        (lambda d: d.update(sink=[]), "sink position"),
        (lambda d: d.pop("series"), "malformed"),
    ],
)
async def test_tampered_state_is_refused(tamper: Any, match: str, tmp_path: Path) -> None:
    sim = simulator()
    state = tmp_path / "state.json"
    async with client_of(sim) as client:
        await client.backfill(**JOB, sink=tmp_path / "a.jsonl", checkpoint=state)
        document = json.loads(state.read_text())
        tamper(document)
        state.write_text(json.dumps(document))
        with pytest.raises(CheckpointMismatchError, match=match):
            await client.backfill(**JOB, sink=tmp_path / "a.jsonl", checkpoint=state)


@pytest.mark.parametrize("auth", ["header", "query", "body"])
async def test_the_state_file_never_holds_the_key(auth: str, tmp_path: Path) -> None:
    sim = simulator()
    state = tmp_path / "state.json"
    with anyio.CancelScope() as scope:

        def cancel_midway(progress: Progress) -> None:
            if progress.chunks_done == 5:
                scope.cancel()

        async with client_of(sim, auth=auth) as client:
            await client.backfill(
                **JOB, sink=tmp_path / "a.jsonl", checkpoint=state, progress=cancel_midway
            )
    text = state.read_text()
    assert SECRET not in text
    assert SECRET[:8] not in text
    # The key reached the simulator the way the test asked for.
    assert {r.auth_mode for r in sim.requests} == {auth}
    assert "scout.test" not in text  # nor the server, nor any header
    assert "X-SCOUT" not in text.upper()
    document = json.loads(text)
    assert sorted(document) == ["fingerprint", "format", "plan", "series", "sink"]


async def test_resume_after_a_failed_series_fetches_only_what_is_missing(tmp_path: Path) -> None:
    sim = simulator()
    sim.add_fault(Fault(path="/apps/102/metrics/errors", skip=1, status=404))
    state, sink = tmp_path / "state.json", tmp_path / "a.jsonl"
    async with client_of(sim, max_concurrency=1) as client:
        first = await client.backfill(**JOB, sink=sink, checkpoint=state)
        failed = first.failed
        assert [(s.app_id, s.metric, s.status) for s in failed] == [(102, "errors", "failed")]
        assert isinstance(failed[0].error, NotFoundError)
        assert failed[0].chunks == 1
        assert failed[0].resume_from == T0 + H
        sent = len(data_requests(sim))
        second = await client.backfill(**JOB, sink=sink, checkpoint=state)
    assert second.ok
    assert second.chunks == CHUNKS_PER_SERIES - 1
    assert [window(r) for r in data_requests(sim)[sent:]] == [
        (T0 + H, T0 + 2 * H),
        (T0 + 2 * H, T0 + 3 * H),
    ]
    check_rows(read_rows(sink), expected_rows(**_rows_job()))


async def test_apps_all_resumes_the_series_it_started_with(tmp_path: Path) -> None:
    sim = simulator(apps=[101, 102], metrics={101: ["apdex"], 102: ["apdex", "errors"]})
    state, sink = tmp_path / "state.json", tmp_path / "a.jsonl"
    job = JOB | {"apps": "all", "metrics": "all"}
    with anyio.CancelScope() as scope:
        async with client_of(sim, max_concurrency=1) as client:
            await client.backfill(
                **job,
                sink=sink,
                checkpoint=state,
                progress=lambda p: scope.cancel() if p.chunks_done == 4 else None,
            )
    assert scope.cancelled_caught
    sim.add_app(103, "App 103")  # a new app appeared meanwhile: not part of this job
    sent = len(sim.requests)
    async with client_of(sim) as client:
        result = await client.backfill(**job, sink=sink, checkpoint=state)
    assert result.ok
    assert [(s.app_id, s.metric) for s in result.series] == [
        (101, "apdex"),
        (102, "apdex"),
        (102, "errors"),
    ]
    assert all("from" in r.query for r in sim.requests[sent:])  # no listing on resume
    want = expected_rows([101], ["apdex"], T0, T0 + 3 * H, M) + expected_rows(
        [102], ["apdex", "errors"], T0, T0 + 3 * H, M
    )
    check_rows(read_rows(sink), want)


def test_saving_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = CheckpointFile(tmp_path / "state.json")
    the_plan = plan()
    state = Checkpoint(series=[(101, "apdex")], done_until={(101, "apdex"): None}, sink={})
    store.save(the_plan, state)
    before = (tmp_path / "state.json").read_bytes()

    def crash(*args: object) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", crash)
    state.done_until[(101, "apdex")] = T0 + H
    with pytest.raises(OSError, match="fire"):
        store.save(the_plan, state)
    assert (tmp_path / "state.json").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temporary file left
    assert store.load(the_plan, [T0 + H]) == Checkpoint(
        series=[(101, "apdex")], done_until={(101, "apdex"): None}, sink={}
    )


def test_bad_checkpoint_paths(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        CheckpointFile(tmp_path / "nope" / "state.json")
    with pytest.raises(ValueError, match="directory"):
        CheckpointFile(tmp_path)
    with pytest.raises(TypeError, match="path"):
        CheckpointFile(12)  # type: ignore[arg-type]


async def test_relative_and_absolute_paths_are_one_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = simulator()
    async with client_of(sim) as client:
        await client.backfill(
            **JOB, sink=JsonlSink(tmp_path / "a.jsonl"), checkpoint=str(tmp_path / "s.json")
        )
        monkeypatch.chdir(tmp_path)
        again = await client.backfill(**JOB, sink="a.jsonl", checkpoint="s.json")
    assert again.ok
    assert again.chunks == 0
