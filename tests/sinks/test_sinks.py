"""Sinks: one long-format table in every format, durable positions, resume by truncation."""

from __future__ import annotations

import builtins
import json
import sqlite3
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from scout_async import CheckpointMismatchError, Point
from scout_async.sinks import CsvSink, JsonlSink, ParquetSink, Sink, SqliteSink, open_sink
from tests.bulk.backfill_worker import T0, Row, read_rows, rows_of

M = timedelta(minutes=1)


def chunk(start: int, count: int, base: float = 1.0) -> list[Point]:
    return [Point(T0 + (start + i) * M, None if i == 1 else base + i / 4) for i in range(count)]


KINDS: dict[str, Callable[[Path], Sink]] = {
    "jsonl": lambda d: JsonlSink(d / "out.jsonl"),
    "csv": lambda d: CsvSink(d / "out.csv"),
    "jsonl-dir": lambda d: JsonlSink(d / "out", per_series=True),
    "sqlite": lambda d: SqliteSink(d / "out.db"),
    "parquet": lambda d: ParquetSink(d / "out.parquet"),
}


def output(sink: Sink) -> Path:
    return Path(sink.location.split(":", 1)[1].split("#")[0])


@pytest.mark.parametrize("kind", KINDS)
async def test_every_sink_stores_the_same_table(kind: str, tmp_path: Path) -> None:
    sink = KINDS[kind](tmp_path)
    assert isinstance(sink, Sink)
    await sink.open()
    await sink.write(101, "apdex", chunk(0, 3))
    await sink.write(102, "throughput", chunk(0, 2, base=7.0))
    await sink.write(101, "apdex", chunk(3, 2))
    await sink.write(101, "apdex", [])  # an empty chunk writes nothing
    await sink.flush()
    await sink.close()
    want = (
        rows_of(101, "apdex", chunk(0, 3))
        + rows_of(101, "apdex", chunk(3, 2))
        + rows_of(102, "throughput", chunk(0, 2, base=7.0))
    )
    assert sorted(read_rows(output(sink))) == sorted(want)
    assert want[1] == (101, "apdex", "2026-03-01T00:01:00Z", None)  # nulls survive every format


async def test_jsonl_and_csv_lines_look_like_this(tmp_path: Path) -> None:
    for sink in (JsonlSink(tmp_path / "a.jsonl"), CsvSink(tmp_path / "a.csv")):
        await sink.open()
        await sink.write(101, "apdex", [Point(T0, 0.5), Point(T0 + M, None)])
        await sink.close()
    assert (tmp_path / "a.jsonl").read_text().splitlines() == [
        '{"app_id":101,"metric":"apdex","time":"2026-03-01T00:00:00Z","value":0.5}',
        '{"app_id":101,"metric":"apdex","time":"2026-03-01T00:01:00Z","value":null}',
    ]
    assert (tmp_path / "a.csv").read_text().splitlines() == [
        "app_id,metric,time,value",
        "101,apdex,2026-03-01T00:00:00Z,0.5",
        "101,apdex,2026-03-01T00:01:00Z,",
    ]


@pytest.mark.parametrize("kind", KINDS)
async def test_resume_drops_what_came_after_the_position(kind: str, tmp_path: Path) -> None:
    # A crashed run: two chunks durable, then more written that the checkpoint never saw.
    sink = KINDS[kind](tmp_path)
    await sink.open()
    await sink.write(101, "apdex", chunk(0, 3))
    await sink.write(102, "apdex", chunk(0, 3))
    position = json.loads(json.dumps(await sink.flush()))  # it travels through the JSON file
    await sink.write(101, "apdex", chunk(3, 3))
    await sink.write(103, "errors", chunk(0, 3))
    await sink.flush()
    await sink.close()

    resumed = KINDS[kind](tmp_path)
    assert resumed.location == sink.location
    await resumed.open(position)
    await resumed.write(101, "apdex", chunk(3, 3))
    await resumed.write(103, "errors", chunk(0, 3))
    await resumed.flush()
    await resumed.close()

    want = (
        rows_of(101, "apdex", chunk(0, 3) + chunk(3, 3))
        + rows_of(102, "apdex", chunk(0, 3))
        + rows_of(103, "errors", chunk(0, 3))
    )
    rows = read_rows(output(resumed))
    assert len(rows) == len(set(rows))
    assert sorted(rows) == sorted(want)


@pytest.mark.parametrize("kind", ["jsonl", "csv", "jsonl-dir"])
async def test_a_line_file_is_byte_identical_after_resume(kind: str, tmp_path: Path) -> None:
    (tmp_path / "clean").mkdir()
    clean = KINDS[kind](tmp_path / "clean")
    await clean.open()
    for start in range(0, 12, 3):
        await clean.write(101, "apdex", chunk(start, 3))
    await clean.close()

    (tmp_path / "crash").mkdir()
    crashed = KINDS[kind](tmp_path / "crash")
    await crashed.open()
    await crashed.write(101, "apdex", chunk(0, 3))
    position = await crashed.flush()
    await crashed.write(101, "apdex", chunk(3, 3))
    await crashed.close()  # "crash": bytes past the position are on disk
    resumed = KINDS[kind](tmp_path / "crash")
    await resumed.open(position)
    for start in range(3, 12, 3):
        await resumed.write(101, "apdex", chunk(start, 3))
    await resumed.close()

    def files(root: Path) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    assert files(tmp_path / "crash") == files(tmp_path / "clean")


@pytest.mark.parametrize("kind", ["jsonl", "csv", "jsonl-dir"])
async def test_an_output_shorter_than_the_checkpoint_is_refused(kind: str, tmp_path: Path) -> None:
    sink = KINDS[kind](tmp_path)
    await sink.open()
    await sink.write(101, "apdex", chunk(0, 3))
    position = await sink.flush()
    await sink.close()
    target = output(sink)
    for file in [target] if target.is_file() else list(target.iterdir()):
        file.write_bytes(file.read_bytes()[:10])
    with pytest.raises(CheckpointMismatchError, match="fewer than"):
        await KINDS[kind](tmp_path).open(position)


async def test_a_missing_output_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CheckpointMismatchError, match="missing"):
        await JsonlSink(tmp_path / "gone.jsonl").open({"bytes": 10})
    with pytest.raises(CheckpointMismatchError, match="missing"):
        await ParquetSink(tmp_path / "gone.parquet").open({"parts": 2})


@pytest.mark.parametrize(
    "position",
    [{"files": {"../escape.jsonl": 0}}, {"files": {"/etc/passwd": 0}}, {"files": []}],
)
async def test_per_series_position_names_only_its_own_files(
    position: dict[str, Any], tmp_path: Path
) -> None:
    with pytest.raises(CheckpointMismatchError):
        await JsonlSink(tmp_path / "out", per_series=True).open(position)


async def test_per_series_files_are_named_by_series(tmp_path: Path) -> None:
    sink = JsonlSink(tmp_path / "out", per_series=True)
    await sink.open()
    await sink.write(101, "apdex", chunk(0, 2))
    await sink.write(7, "odd/name", chunk(0, 1))
    position = await sink.flush()
    await sink.close()
    files = {p.name: p.stat().st_size for p in (tmp_path / "out").iterdir()}
    assert position == {"files": files}
    assert sorted(files) == ["101-apdex.jsonl", "7-odd%2Fname.jsonl"]


async def test_sqlite_upsert_makes_rewrites_idempotent(tmp_path: Path) -> None:
    sink = SqliteSink(tmp_path / "out.db")
    await sink.open()
    await sink.write(101, "apdex", chunk(0, 4))
    await sink.write(101, "apdex", chunk(0, 4))
    await sink.write(101, "apdex", [Point(T0, 99.0)])
    assert set(await sink.flush()) == {"token"}
    await sink.close()
    with sqlite3.connect(tmp_path / "out.db") as db:
        rows = db.execute("SELECT * FROM points ORDER BY time").fetchall()
        columns = [r[1] for r in db.execute("PRAGMA table_info(points)")]
        primary = [r[1] for r in db.execute("PRAGMA table_info(points)") if r[5]]
    assert columns == ["app_id", "metric", "time", "value"]
    assert primary == ["app_id", "metric", "time"]
    assert len(rows) == 4
    assert rows[0] == (101, "apdex", "2026-03-01T00:00:00Z", 99.0)


async def test_sqlite_resume_into_another_database_is_refused(tmp_path: Path) -> None:
    sink = SqliteSink(tmp_path / "out.db")
    await sink.open()
    await sink.write(101, "apdex", chunk(0, 2))
    position = await sink.flush()
    await sink.close()
    resumed = SqliteSink(tmp_path / "out.db")
    await resumed.open(position)  # the same database: fine
    await resumed.close()
    (tmp_path / "out.db").unlink()
    with pytest.raises(CheckpointMismatchError, match="deleted or replaced"):
        await SqliteSink(tmp_path / "out.db").open(position)


async def test_sqlite_uncommitted_rows_vanish_with_a_crash(tmp_path: Path) -> None:
    sink = SqliteSink(tmp_path / "out.db")
    await sink.open()
    await sink.write(101, "apdex", chunk(0, 2))
    await sink.flush()
    await sink.write(101, "apdex", chunk(2, 2))
    assert sink._db is not None
    sink._db.rollback()  # what a crash before the next commit amounts to
    await sink.close()
    assert read_rows(tmp_path / "out.db") == rows_of(101, "apdex", chunk(0, 2))


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


async def test_parquet_gathers_chunks_into_row_groups_and_large_parts(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    out = tmp_path / "out.parquet"
    sink = ParquetSink(out, rows_per_part=10, row_group_rows=4)
    await sink.open()
    assert await sink.flush() == {"parts": 0}  # nothing written: no empty part
    await sink.write(101, "apdex", chunk(0, 3))
    assert names(out) == []  # held back: less than a row group
    await sink.write(102, "apdex", chunk(0, 3))
    assert names(out) == [".part-00000.parquet.tmp"]  # a row group of 4 went out
    assert await sink.flush() == {"parts": 1}  # a flush ends the part
    await sink.write(101, "apdex", chunk(3, 12))
    assert names(out) == ["part-00000.parquet", "part-00001.parquet"]  # full at 10 rows
    assert await sink.flush() == {"parts": 3}
    await sink.close()
    groups = []
    for name in names(out):
        metadata = pq.ParquetFile(out / name).metadata
        groups.append([metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)])
    assert groups == [[4, 2], [4, 4, 2], [2]]
    assert [f.name for f in pq.ParquetFile(out / "part-00000.parquet").schema_arrow] == [
        "app_id",
        "metric",
        "time",
        "value",
    ]
    want = rows_of(101, "apdex", chunk(0, 3) + chunk(3, 12)) + rows_of(102, "apdex", chunk(0, 3))
    assert sorted(read_rows(out)) == sorted(want)


async def test_parquet_resume_drops_parts_finished_after_the_checkpoint(tmp_path: Path) -> None:
    out = tmp_path / "out.parquet"
    sink = ParquetSink(out, rows_per_part=4, row_group_rows=2)
    await sink.open()
    await sink.write(101, "apdex", chunk(0, 3))
    position = json.loads(json.dumps(await sink.flush()))
    await sink.write(101, "apdex", chunk(3, 9))  # two more parts fill up; then a crash
    assert names(out) == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    resumed = ParquetSink(out, rows_per_part=4, row_group_rows=2)
    await resumed.open(position)
    assert names(out) == ["part-00000.parquet"]
    await resumed.write(101, "apdex", chunk(3, 9))
    await resumed.close()
    assert sorted(read_rows(out)) == sorted(rows_of(101, "apdex", chunk(0, 3) + chunk(3, 9)))


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"rows_per_part": 0}, ValueError), ({"row_group_rows": 1.5}, TypeError)],
)
def test_parquet_sizes_are_checked(kwargs: dict[str, Any], error: type, tmp_path: Path) -> None:
    with pytest.raises(error, match=next(iter(kwargs))):
        ParquetSink(tmp_path / "out.parquet", **kwargs)


async def test_parquet_fresh_open_replaces_old_parts(tmp_path: Path) -> None:
    for _ in range(2):
        sink = ParquetSink(tmp_path / "out.parquet")
        await sink.open()
        await sink.write(101, "apdex", chunk(0, 3))
        await sink.close()
    assert len(read_rows(tmp_path / "out.parquet")) == 3


def test_parquet_without_pyarrow_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real_import = builtins.__import__

    def no_pyarrow(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.split(".")[0] == "pyarrow":
            raise ModuleNotFoundError("No module named 'pyarrow'")
        return real_import(name, *args, **kwargs)

    for name in [m for m in sys.modules if m.split(".")[0] == "pyarrow"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(ImportError, match=r"scout-async\[parquet\]"):
        ParquetSink(tmp_path / "out.parquet")


@pytest.mark.parametrize(
    ("name", "kind", "per_series"),
    [
        ("a.jsonl", JsonlSink, False),
        ("a.JSONL", JsonlSink, False),
        ("a.csv", CsvSink, False),
        ("a.sqlite", SqliteSink, None),
        ("a.sqlite3", SqliteSink, None),
        ("a.db", SqliteSink, None),
        ("a.parquet", ParquetSink, None),
        ("outdir/", JsonlSink, True),
        ("outdir", JsonlSink, True),
    ],
)
def test_open_sink_chooses_by_extension(
    name: str, kind: type, per_series: bool | None, tmp_path: Path
) -> None:
    sink = open_sink(str(tmp_path / name) + ("/" if name.endswith("/") else ""))
    assert type(sink) is kind
    if per_series is not None:
        assert sink.location.endswith("/") is per_series


def test_open_sink_takes_an_existing_directory(tmp_path: Path) -> None:
    (tmp_path / "out.d").mkdir()
    sink = open_sink(tmp_path / "out.d")
    assert sink.location == f"jsonl:{tmp_path / 'out.d'}/"


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda d: open_sink(d / "a.xlsx"), ValueError, r"\.jsonl, \.csv"),
        (lambda d: open_sink(42), TypeError, "path"),  # type: ignore[arg-type]
        (lambda d: JsonlSink(d / "no" / "such" / "a.jsonl"), ValueError, "does not exist"),
        (lambda d: JsonlSink(d), ValueError, "per_series=True"),
        (lambda d: SqliteSink(d / "a.db", table="points; DROP"), ValueError, "identifier"),
        (lambda d: CsvSink(d / "x.csv", per_series=True), ValueError, "is a file"),
    ],
)
def test_bad_sink_arguments(
    make: Callable[[Path], object], error: type[Exception], match: str, tmp_path: Path
) -> None:
    (tmp_path / "x.csv").write_text("")
    with pytest.raises(error, match=match):
        make(tmp_path)


async def test_writing_before_open_is_an_error(tmp_path: Path) -> None:
    for sink in (JsonlSink(tmp_path / "a.jsonl"), SqliteSink(tmp_path / "a.db")):
        with pytest.raises(RuntimeError, match="not open"):
            await sink.write(1, "apdex", chunk(0, 1))


def test_rows_helper_round_trips() -> None:
    rows: list[Row] = rows_of(1, "apdex", chunk(0, 2))
    assert rows == [
        (1, "apdex", "2026-03-01T00:00:00Z", 1.0),
        (1, "apdex", "2026-03-01T00:01:00Z", None),
    ]
