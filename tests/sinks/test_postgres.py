"""PostgresSink against a real PostgreSQL server (tests/pg_server.py): the long table with
timestamptz times, upserts, the checkpoint committed with its rows, a connection dropped in the
middle of a transaction, bad credentials, and a password that is never shown."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import anyio
import pytest

from scout_async import CheckpointMismatchError, Point, ScoutClient
from scout_async._bulk.checkpoint import SinkCheckpoints
from scout_async.sinks import (
    CheckpointingSink,
    PostgresSink,
    Sink,
    SinkError,
    SqliteSink,
    open_sink,
)
from scout_async.testing import ScoutSimulator
from tests.pg_server import PASSWORD, PostgresServer, pg_server, pg_url, query, rows
from tests.sinks.test_sink_columns import CHUNKS as COLUMN_CHUNKS
from tests.sinks.test_sink_columns import NoPoints, columnar

__all__ = ["pg_server", "pg_url"]  # the fixtures, used by name

UTC = timezone.utc
T0 = datetime(2026, 3, 1, tzinfo=UTC)
M = timedelta(minutes=1)
SIM_NOW = datetime(2026, 3, 3, 12, 0, 11, tzinfo=UTC)
KEY = "sk-pg-S3CR3T-api-key-4242"


def chunk(start: int, count: int, base: float = 1.0) -> list[Point]:
    return [Point(T0 + (start + i) * M, None if i == 1 else base + i / 4) for i in range(count)]


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def rows_of(app_id: int, metric: str, points: list[Point]) -> list[tuple[int, str, str, Any]]:
    return [(app_id, metric, iso(p.time), p.value) for p in points]


def sqlite_rows(path: Path) -> list[tuple[int, str, str, Any]]:
    with sqlite3.connect(path) as db:
        found = db.execute("SELECT app_id, metric, time, value FROM points ORDER BY 1, 2, 3")
        return [(a, m, t, v) for a, m, t, v in found]


def no_secret(*texts: object) -> None:
    for text in texts:
        assert PASSWORD not in str(text)


# -- the table -----------------------------------------------------------------------------------


async def test_stores_the_long_table_with_timestamptz_times(pg_url: str) -> None:
    sink = PostgresSink(pg_url)
    assert isinstance(sink, Sink)
    assert isinstance(sink, CheckpointingSink)
    await sink.open()
    await sink.write(101, "apdex", chunk(0, 3))
    await sink.write(102, "throughput", chunk(0, 2, base=7.0))
    await sink.write(101, "apdex", chunk(3, 2))
    await sink.write(101, "apdex", [])  # an empty chunk writes nothing
    assert rows(pg_url) == []  # staged, not committed
    assert await sink.flush() == {"token": sink._token}
    await sink.close()
    want = (
        rows_of(101, "apdex", chunk(0, 3))
        + rows_of(101, "apdex", chunk(3, 2))
        + rows_of(102, "throughput", chunk(0, 2, base=7.0))
    )
    assert rows(pg_url) == sorted(want)
    assert want[1] == (101, "apdex", "2026-03-01T00:01:00Z", None)  # a null stays a null
    columns = query(
        pg_url,
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = 'points' ORDER BY ordinal_position",
    )
    assert columns == [
        ("app_id", "bigint"),
        ("metric", "text"),
        ("time", "timestamp with time zone"),
        ("value", "double precision"),
    ]
    key = query(
        pg_url,
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
        "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'points'::regclass AND i.indisprimary "
        "ORDER BY array_position(i.indkey, a.attnum)",
    )
    assert key == [("app_id",), ("metric",), ("time",)]
    # Times are times: range queries and time arithmetic work in SQL.
    (count,) = query(
        pg_url,
        "SELECT count(*) FROM points WHERE time >= %s AND time < %s + interval '2 minutes'",
        T0 + M,
        T0 + M,
    )[0]
    assert count == 3
    assert sink.hypertable is False  # no TimescaleDB here: a plain table


async def test_upserts_so_rewriting_never_duplicates_and_the_last_value_wins(pg_url: str) -> None:
    sink = PostgresSink(pg_url)
    await sink.open()
    await sink.write(101, "apdex", chunk(0, 4))
    await sink.write(101, "apdex", chunk(0, 4, base=5.0))  # twice before one commit
    await sink.flush()
    await sink.write(101, "apdex", chunk(2, 4, base=9.0))  # again, over committed rows
    await sink.flush()
    await sink.close()
    assert rows(pg_url) == sorted(
        rows_of(101, "apdex", chunk(0, 4, base=5.0)[:2] + chunk(2, 4, base=9.0))
    )


async def test_a_points_is_copied_from_its_arrays_into_the_per_point_rows(pg_url: str) -> None:
    # The same chunks as a list, a tuple and a Points that refuses to make a Point (the sink
    # reads its arrays): one table, holding exactly the rows Point by Point, odd values and all.
    givens: list[Callable[[list[Point]], Sequence[Point]]] = [list, tuple, columnar]
    found = []
    for number, convert in enumerate(givens):
        sink = PostgresSink(pg_url, table=f"points_{number}")
        await sink.open()
        for app_id, metric, points in COLUMN_CHUNKS:
            await sink.write(app_id, metric, convert(points))
        await sink.write(101, "apdex", NoPoints())  # an empty chunk writes nothing
        await sink.flush()
        await sink.close()
        found.append(
            query(
                pg_url,
                f"SELECT app_id, metric, time, value, value::text FROM points_{number} "
                "ORDER BY 1, 2, 3",
            )
        )
    assert found[0] == found[1] == found[2]
    want = sorted((a, m, p.time, p.value) for a, m, points in COLUMN_CHUNKS for p in points)
    assert [(a, m, t, v) for a, m, t, v, _ in found[2]] == want
    texts = [text for *_, text in found[2]]
    assert texts.count(None) == 6  # missing values are NULL
    assert {"Infinity", "-Infinity", "-0", "1e+16", "5e-324"} <= set(texts)
    assert found[2][0][2] == datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC)


async def test_staging_holds_epoch_seconds_and_the_table_timestamptz(pg_url: str) -> None:
    sink = PostgresSink(pg_url)
    await sink.open()
    await sink.write(101, "apdex", columnar(chunk(0, 3)))
    assert sink._db is not None
    staged = sink._db.execute(
        "SELECT time, pg_typeof(time)::text FROM pg_temp.scout_async_staging ORDER BY seq"
    ).fetchall()
    assert staged == [(int((T0 + i * M).timestamp()), "bigint") for i in range(3)]
    await sink.flush()
    await sink.close()
    assert query(pg_url, "SELECT time FROM points ORDER BY time") == [
        (T0 + i * M,) for i in range(3)
    ]


async def test_a_named_table_gets_its_companions(pg_url: str) -> None:
    sink = PostgresSink(pg_url, table="scout_1m")
    await sink.open()
    await sink.write(101, "apdex", chunk(0, 2))
    await sink.flush()
    await sink.close()
    assert sink.location.endswith("#scout_1m")
    tables = {name for (name,) in query(pg_url, "SELECT tablename FROM pg_tables")}
    assert {"scout_1m", "scout_1m_jobs", "scout_1m_checkpoints", "scout_1m_watermarks"} <= tables
    assert len(rows(pg_url, "scout_1m")) == 2


@pytest.mark.parametrize("table", ["Points", "points; drop", "a" * 41, "1st"])
def test_table_must_be_a_plain_identifier(table: str, pg_server: PostgresServer) -> None:
    with pytest.raises(ValueError, match="plain lowercase SQL identifier"):
        PostgresSink(pg_server.url(), table=table)


def test_open_sink_picks_postgres_by_its_url(pg_server: PostgresServer) -> None:
    for url in (pg_server.url(), pg_server.url().replace("postgresql://", "postgres://")):
        sink = open_sink(url)
        assert isinstance(sink, PostgresSink)
        assert repr(sink) == f"PostgresSink({pg_server.shown()!r}, table='points')"
        assert sink.location == f"{pg_server.shown()}#points"
        no_secret(repr(sink), sink.location, sink.database)


# -- the checkpoint, in the transaction of its rows --------------------------------------------


async def test_flush_checkpoint_commits_the_rows_and_the_document_together(pg_url: str) -> None:
    sink = PostgresSink(pg_url)
    assert await sink.read_checkpoint("job") is None  # nothing there yet (no table even)
    await sink.open()
    await sink.write(101, "apdex", chunk(0, 3))
    await sink.flush_checkpoint("job", {"done": 3})
    await sink.write(101, "apdex", chunk(3, 3))
    assert await sink.read_checkpoint("job") == {"done": 3}
    await sink.flush_checkpoint("job", {"done": 6})
    assert await PostgresSink(pg_url).read_checkpoint("job") == {"done": 6}
    await sink.close()
    assert len(rows(pg_url)) == 6


def _backend_of(url: str, *, waiting: bool = False) -> int:
    """The server process of the sink's connection (the one ``application_name`` names)."""
    condition = "AND wait_event_type = 'Lock'" if waiting else ""
    for _ in range(500):
        found = query(
            url,
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'scout-async' "
            f"AND datname = current_database() {condition}",
        )
        if found:
            return int(str(found[0][0]))
        time.sleep(0.01)
    raise AssertionError("the sink's connection never showed up")


async def commit_three_then_stage(sink: PostgresSink) -> None:
    """Open ``sink``, commit rows 0-2 of app 101's apdex with the checkpoint ``{"done": 3}``,
    then stage rows 3-5 and new values for rows 0-1, uncommitted."""
    await sink.open()
    await sink.write(101, "apdex", chunk(0, 3))
    await sink.flush_checkpoint("job", {"done": 3})
    await sink.write(101, "apdex", chunk(3, 3, base=9.0))
    await sink.write(101, "apdex", chunk(0, 2, base=9.0))  # would update committed rows


async def test_a_connection_dropped_mid_transaction_commits_neither_rows_nor_checkpoint(
    pg_url: str,
) -> None:
    import psycopg

    sink = PostgresSink(pg_url)
    await commit_three_then_stage(sink)

    # Hold the table so the sink's upsert waits inside its transaction; end the sink's
    # connection while it waits there; then let go.
    locked = threading.Event()

    def drop_it_mid_transaction() -> None:
        with psycopg.connect(pg_url) as admin:
            admin.execute("LOCK TABLE points IN SHARE MODE")
            locked.set()
            pid = _backend_of(pg_url, waiting=True)
            query(pg_url, "SELECT pg_terminate_backend(%s)", pid)

    dropper = threading.Thread(target=drop_it_mid_transaction)
    dropper.start()
    await anyio.to_thread.run_sync(locked.wait)
    try:
        with pytest.raises(SinkError) as caught:
            await sink.flush_checkpoint("job", {"done": 6})
    finally:
        dropper.join()
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"postgres sink: lost the connection to {sink.database}: ")
    assert "run the job again to resume" in message
    no_secret(message, repr(caught.value))
    await sink.close()  # closing a broken sink is quiet
    # Neither the rows nor the checkpoint of the dropped transaction are there.
    assert rows(pg_url) == rows_of(101, "apdex", chunk(0, 3))
    assert await PostgresSink(pg_url).read_checkpoint("job") == {"done": 3}


async def test_resuming_from_a_file_into_another_database_is_refused(pg_url: str) -> None:
    sink = PostgresSink(pg_url)
    await sink.open()
    position = await sink.flush()
    await sink.close()
    resumed = PostgresSink(pg_url)
    await resumed.open(position)  # the same database: fine
    await resumed.close()
    with pytest.raises(CheckpointMismatchError, match="holds no rows of the checkpointed job"):
        await PostgresSink(pg_url).open({"token": "0" * 32})


# -- backfill: bulk load, and the checkpoint in the database -----------------------------------


def client_of(sim: ScoutSimulator, **kwargs: Any) -> ScoutClient:
    return ScoutClient(
        api_key=KEY, base_url="https://sim.test/api/v0", http_client=sim.http_client(), **kwargs
    )


JOB: dict[str, Any] = {
    "apps": [101, 102, 103],
    "metrics": ["apdex", "errors", "throughput"],
    "start": T0 + timedelta(minutes=7, seconds=30),
    "end": T0 + timedelta(days=1, hours=5, minutes=3),
    "resolution": "1m",
}


def simulator() -> ScoutSimulator:
    return ScoutSimulator(api_key=KEY, now=SIM_NOW, missing=0.012, nulls=0.01)


def data_requests(sim: ScoutSimulator) -> int:
    return sum(1 for r in sim.requests if "/metrics/" in r.path)


async def test_backfill_bulk_loads_the_same_table_as_sqlite_and_resumes_from_the_database(
    pg_url: str, tmp_path: Path
) -> None:
    sim = simulator()
    async with client_of(sim, max_concurrency=4) as client:
        reference = await client.backfill(**JOB, sink=SqliteSink(tmp_path / "ref.db"))
        assert reference.ok
        before = data_requests(sim)
        result = await client.backfill(**JOB, sink=pg_url)  # no checkpoint file
        assert result.ok
        assert result.points == reference.points
        fetched = data_requests(sim) - before
        assert fetched > 0
        # The same plan again finds its complete checkpoint in the database: nothing to fetch.
        again = await client.backfill(**JOB, sink=pg_url)
        assert again.ok
        assert data_requests(sim) - before == fetched
    assert rows(pg_url) == sqlite_rows(tmp_path / "ref.db")
    assert len(rows(pg_url)) == reference.points
    ((job, document),) = query(pg_url, "SELECT job, document FROM points_checkpoints")
    assert str(job).startswith("backfill/")
    assert isinstance(document, dict)
    assert document["plan"]["sink"] == f"{open_sink(pg_url).location}"
    assert all(s["done_until"] == "2026-03-02T05:03:00Z" for s in document["series"])
    no_secret(json.dumps(document))


async def test_an_interrupted_backfill_resumes_from_the_checkpoint_in_the_database(
    pg_url: str, tmp_path: Path
) -> None:
    sim = simulator()
    async with client_of(sim, max_concurrency=2) as client:
        reference = await client.backfill(**JOB, sink=SqliteSink(tmp_path / "ref.db"))
        calls = 0

        def stop_after_a_while(_: object) -> None:
            nonlocal calls
            calls += 1
            if calls == 40:
                raise RuntimeError("crash")  # the job ends at once, without a last checkpoint

        with pytest.raises(RuntimeError, match="crash"):
            await client.backfill(
                **JOB, sink=pg_url, progress=stop_after_a_while, checkpoint_every=0.0
            )
        done, covered = await checkpointed(pg_url, tmp_path / "ref.db")
        assert done  # some of it is durable
        # What the checkpoint covers is exactly what the table holds.
        held = rows(pg_url)
        assert held == covered
        before = data_requests(sim)
        result = await client.backfill(**JOB, sink=pg_url)
        assert result.ok
        fetched = data_requests(sim) - before
    assert rows(pg_url) == sqlite_rows(tmp_path / "ref.db")
    assert result.points == reference.points - len(held)
    # Exactly the chunks the checkpoint does not cover are fetched again: none twice.
    assert fetched == chunks_left(done)


async def checkpointed(url: str, reference: Path) -> tuple[list[str], list[tuple[Any, ...]]]:
    """``JOB``'s checkpoint in the database at ``url``: the series' ``done_until`` marks, and the
    rows of ``reference`` (an SQLite output of the whole job) it says are written."""
    document = await PostgresSink(url).read_checkpoint(SinkCheckpoints.job(_plan_of(url)))
    assert document is not None
    series = document["series"]
    done = [s["done_until"] for s in series if s["done_until"]]
    covered = [
        row
        for row in sqlite_rows(reference)
        if any(
            s["app_id"] == row[0] and s["metric"] == row[1] and s["done_until"] is not None
            and row[2] < s["done_until"]
            for s in series
        )
    ]  # fmt: skip
    return done, covered


def chunks_left(done: list[str]) -> int:
    """How many of ``JOB``'s chunks (9 series) the ``done_until`` marks ``done`` do not cover."""
    from scout_async._series.planner import plan_range

    ends = [c.owned_end for c in plan_range(JOB["start"], JOB["end"], JOB["resolution"])]
    durable = sum(1 for mark in done for end in ends if iso(end) <= mark)
    return 9 * len(ends) - durable


def _plan_of(url: str) -> Any:
    from scout_async._bulk.checkpoint import Plan
    from scout_async._bulk.selection import select
    from scout_async._series.planner import plan_range

    chunks = plan_range(JOB["start"], JOB["end"], JOB["resolution"])
    return Plan(
        selection=select(JOB["apps"], JOB["metrics"]),
        start=JOB["start"],
        end=JOB["end"],
        step=chunks[0].step,
        sink=open_sink(url).location,
    )


def test_the_sink_runs_on_trio(pg_url: str) -> None:
    async def main() -> None:
        sink = PostgresSink(pg_url)
        await sink.open()
        await sink.write(101, "apdex", chunk(0, 3))
        await sink.flush_checkpoint("job", {"on": "trio"})
        await sink.close()

    anyio.run(main, backend="trio")
    assert len(rows(pg_url)) == 3


# -- credentials -------------------------------------------------------------------------------


async def test_bad_credentials_are_one_line_without_the_password(
    pg_server: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "wr0ng-Pa55-d0nt-sh0w"
    url = pg_server.url(password=wrong)
    sim = simulator()
    async with client_of(sim) as client:
        with pytest.raises(SinkError) as caught:
            await client.backfill(**JOB, sink=url)
    message = str(caught.value)
    assert message == (
        f"postgres sink: cannot connect to {pg_server.shown()}: connection to server at "
        f'"127.0.0.1", port {pg_server.port} failed: FATAL:  password authentication failed '
        'for user "scout"'
    )
    assert data_requests(sim) == 0  # refused before any series was fetched
    # An error tracker that captures locals (Sentry-style) walks the error's chain: the driver's
    # error it replaced carries no frame (the driver's frames hold the connection parameters).
    chain: list[BaseException] = []
    error: BaseException | None = caught.value.__context__
    while error is not None:
        chain.append(error)
        error = error.__cause__ or error.__context__
    captured = [
        "".join(traceback.TracebackException.from_exception(e, capture_locals=True).format())
        for e in chain
    ]
    assert chain  # the driver's error is kept as the context, its frames dropped
    assert all(e.__traceback__ is None for e in chain)
    for text in (message, repr(caught.value), caplog.text, *captured):
        assert wrong not in text
        no_secret(text)


async def test_an_unreachable_server_is_one_line(pg_server: PostgresServer) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://scout:{PASSWORD}@127.0.0.1:{port}/postgres"
    with pytest.raises(SinkError) as caught:
        await PostgresSink(url).open()
    message = str(caught.value)
    assert message.startswith(
        f"postgres sink: cannot connect to postgresql://scout@127.0.0.1:{port}"
    )
    assert "\n" not in message
    no_secret(message)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"postgresql://u:{PASSWORD}@h/db?bogus=1", 'invalid URI query parameter: "bogus"'),
        (f"host=h password={PASSWORD} oops", 'missing "=" after "oops"'),
    ],
)
def test_a_bad_url_is_an_argument_error_without_the_password(url: str, shown: str) -> None:
    with pytest.raises(ValueError, match="not a valid connection URL") as caught:
        PostgresSink(url)
    assert shown in str(caught.value)
    no_secret(str(caught.value), repr(caught.value))


def test_a_password_in_the_query_string_is_not_shown_either() -> None:
    sink = PostgresSink(f"postgresql://u@h:5433/db?password={PASSWORD}&sslmode=disable")
    assert sink.location == "postgresql://u@h:5433/db#points"
    no_secret(repr(sink))


def _wait(predicate: Callable[[], bool]) -> None:
    for _ in range(500):
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError("timed out")
