"""The built-in sinks write a chunk from its columns (``Points.times``, ``Points.values``): the
same bytes as the per-``Point`` rows they wrote before, whether handed a ``Points`` or any other
sequence of ``Point``, and no ``Point`` made on the way (PostgreSQL: test_postgres.py)."""

from __future__ import annotations

import csv
import io
import json
import math
import random
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from scout_async import Point, Points
from scout_async._time import format_epochs, format_time
from scout_async.sinks import COLUMNS, JsonlSink, ParquetSink, Sink, SqliteSink
from scout_async.sinks._base import row
from tests.sinks.test_sinks import KINDS

UTC = timezone.utc
T0 = datetime(2026, 3, 1, 23, 58, tzinfo=UTC)
M = timedelta(minutes=1)

#: Values a sink must carry exactly: missing ones, -0.0, the extremes of float64, the infinities.
ODD_VALUES: list[float | None] = [
    0.5,
    None,
    -0.0,
    0.1 + 0.2,
    1e16,
    1e-300,
    -2.5e-7,
    5e-324,
    1.7976931348623157e308,
    math.inf,
    -math.inf,
    None,
    123456789.0,
    0.0,
]


def odd_points() -> list[Point]:
    """Across midnight and a month's end, one time before 1970, values of every awkward kind."""
    times = [T0 + i * M for i in range(len(ODD_VALUES) - 1)]
    return [Point(datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC), 7.0)] + [
        Point(t, v) for t, v in zip(times, ODD_VALUES[1:], strict=True)
    ]


class NoPoints(Points):
    """A ``Points`` that refuses to make a ``Point``: a sink reading it reads the arrays."""

    __slots__ = ()

    def __iter__(self) -> Iterator[Point]:
        raise AssertionError("a sink made Point objects from a Points")

    def __getitem__(self, index: Any) -> Any:
        raise AssertionError("a sink indexed a Points")

    def __reversed__(self) -> Iterator[Point]:
        raise AssertionError("a sink made Point objects from a Points")


def columnar(points: Sequence[Point]) -> NoPoints:
    plain = Points.from_points(points)
    return NoPoints(plain.times, plain.values)


# -- what the per-Point path wrote: each row through row() -----------------------------------


def per_point_jsonl(app_id: int, metric: str, points: Sequence[Point]) -> bytes:
    return b"".join(
        json.dumps(
            dict(zip(COLUMNS, row(app_id, metric, p), strict=True)), separators=(",", ":")
        ).encode()
        + b"\n"
        for p in points
    )


def per_point_csv(app_id: int, metric: str, points: Sequence[Point]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    for a, m, t, v in (row(app_id, metric, p) for p in points):
        writer.writerow((a, m, t, "" if v is None else repr(v)))
    return text.getvalue().encode()


FILES = KINDS  # every file sink, by kind

CHUNKS: list[tuple[int, str, list[Point]]] = [
    (101, "apdex", odd_points()),
    (102, 'odd "name", with\ttab', [Point(T0, 1.0), Point(T0 + M, None)]),
    (101, "apdex", [Point(T0 + 20 * M, 2.0)]),
    (103, "all_missing", [Point(T0 + i * M, None) for i in range(3)]),
]


def files(root: Path) -> dict[str, bytes]:
    """The bytes of every file of an output (a file, or a directory of them), by name."""
    found = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    return {str(p.relative_to(root.parent)): p.read_bytes() for p in found}


def read_table(path: Path) -> Any:
    if path.suffix == ".db":
        with sqlite3.connect(path) as db:
            return db.execute("SELECT app_id, metric, time, value FROM points").fetchall()
    import pyarrow.parquet as pq

    return pq.read_table(path)


async def write_all(sink: Sink, chunks: Sequence[tuple[int, str, Sequence[Point]]]) -> None:
    await sink.open()
    for app_id, metric, points in chunks:
        await sink.write(app_id, metric, points)
    await sink.flush()
    await sink.close()


def output(sink: Sink) -> Path:
    return Path(sink.location.split(":", 1)[1].split("#")[0])


@pytest.mark.parametrize("kind", FILES)
async def test_a_points_and_a_list_of_the_same_points_write_the_same_bytes(
    kind: str, tmp_path: Path
) -> None:
    givens: dict[str, Callable[[list[Point]], Sequence[Point]]] = {
        "list": list,
        "tuple": tuple,
        "points": Points.from_points,
        "columns only": columnar,
    }
    outputs = {}
    for given, convert in givens.items():
        (tmp_path / given).mkdir()
        sink = FILES[kind](tmp_path / given)
        await write_all(sink, [(a, m, convert(p)) for a, m, p in CHUNKS])
        target = output(sink)
        outputs[given] = read_table(target) if kind == "sqlite" else files(target)
    assert outputs["points"] == outputs["list"] == outputs["tuple"] == outputs["columns only"]


@pytest.mark.parametrize("kind", ["jsonl", "csv"])
async def test_line_files_hold_the_per_point_rows_byte_for_byte(kind: str, tmp_path: Path) -> None:
    sink = FILES[kind](tmp_path)
    await write_all(sink, [(a, m, columnar(p)) for a, m, p in CHUNKS])
    encode = per_point_jsonl if kind == "jsonl" else per_point_csv
    want = b"app_id,metric,time,value\n" if kind == "csv" else b""
    want += b"".join(encode(a, m, p) for a, m, p in CHUNKS)
    assert output(sink).read_bytes() == want
    lines = want.decode().splitlines()
    if kind == "jsonl":
        assert (
            lines[0] == '{"app_id":101,"metric":"apdex","time":"1969-12-31T23:59:59Z","value":7.0}'
        )
        assert [json.loads(line)["value"] for line in lines[1:4]] == [None, -0.0, 0.1 + 0.2]
        assert lines[9].endswith('"value":Infinity}')
        assert lines[10].endswith('"value":-Infinity}')
    else:
        assert lines[2:4] == [
            "101,apdex,2026-03-01T23:58:00Z,",
            "101,apdex,2026-03-01T23:59:00Z,-0.0",
        ]
        assert lines[5] == "101,apdex,2026-03-02T00:01:00Z,1e+16"
        assert lines[-5] == '102,"odd ""name"", with\ttab",2026-03-01T23:59:00Z,'


async def test_per_series_files_hold_the_per_point_rows_byte_for_byte(tmp_path: Path) -> None:
    sink = JsonlSink(tmp_path / "out", per_series=True)
    await write_all(sink, [(a, m, columnar(p)) for a, m, p in CHUNKS])
    found = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    assert found["101-apdex.jsonl"] == per_point_jsonl(101, "apdex", CHUNKS[0][2]) + (
        per_point_jsonl(101, "apdex", CHUNKS[2][2])
    )
    assert found["103-all_missing.jsonl"] == per_point_jsonl(103, "all_missing", CHUNKS[3][2])


async def test_sqlite_holds_the_per_point_rows(tmp_path: Path) -> None:
    sink = SqliteSink(tmp_path / "out.db")
    await write_all(sink, [(a, m, columnar(p)) for a, m, p in CHUNKS])
    want = [row(a, m, p) for a, m, points in CHUNKS for p in points]
    found = read_table(tmp_path / "out.db")
    assert sorted(found, key=repr) == sorted(want, key=repr)
    assert [type(v) for *_, v in found if v is not None] == [float] * sum(
        v is not None for *_, v in want
    )
    with sqlite3.connect(tmp_path / "out.db") as db:  # missing values and the infinities kept
        assert db.execute("SELECT count(*) FROM points WHERE value IS NULL").fetchone() == (6,)
        found = db.execute("SELECT value FROM points WHERE abs(value) > 1e308 ORDER BY value")
        assert found.fetchall() == [(-math.inf,), (1.7976931348623157e308,), (math.inf,)]


async def test_parquet_holds_the_table_the_per_point_path_built(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = ParquetSink(tmp_path / "out.parquet")
    await write_all(sink, [(a, m, columnar(p)) for a, m, p in CHUNKS])
    schema = pa.schema(
        [
            ("app_id", pa.int64()),
            ("metric", pa.string()),
            ("time", pa.timestamp("ms", tz="UTC")),
            ("value", pa.float64()),
        ]
    )
    # What the sink did before, a Python object a row: the file must hold this table exactly.
    want = pa.concat_tables(
        pa.Table.from_arrays(
            [
                pa.array([a] * len(points), pa.int64()),
                pa.array([m] * len(points), pa.string()),
                pa.array([int(p.time.timestamp()) * 1000 for p in points], schema[2].type),
                pa.array([p.value for p in points], pa.float64()),
            ],
            schema=schema,
        )
        for a, m, points in CHUNKS
    )
    found = pq.read_table(tmp_path / "out.parquet")
    assert found.schema == schema
    assert found.equals(want)
    assert found.column("value").null_count == 6
    reference = tmp_path / "reference.parquet"
    with pq.ParquetWriter(reference, schema) as writer:
        writer.write_table(want, row_group_size=want.num_rows)
    (part,) = (tmp_path / "out.parquet").iterdir()
    assert part.read_bytes() == reference.read_bytes()


@pytest.mark.parametrize("kind", FILES)
async def test_an_empty_points_writes_nothing(kind: str, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "none").mkdir()
    sink = FILES[kind](tmp_path / "empty")
    await write_all(sink, [(101, "apdex", [Point(T0, 1.0)]), (101, "apdex", NoPoints())])
    plain = FILES[kind](tmp_path / "none")
    await write_all(plain, [(101, "apdex", [Point(T0, 1.0)])])
    if kind == "sqlite":
        assert (
            read_table(output(sink))
            == read_table(output(plain))
            == [row(101, "apdex", Point(T0, 1.0))]
        )
    elif kind == "parquet":
        assert read_table(output(sink)).equals(read_table(output(plain)))
    else:
        assert list(files(output(sink)).values()) == list(files(output(plain)).values())


@pytest.mark.parametrize("kind", FILES)
async def test_a_sequence_of_bad_points_is_refused_before_anything_is_written(
    kind: str, tmp_path: Path
) -> None:
    sink = FILES[kind](tmp_path)
    await sink.open()
    await sink.write(101, "apdex", [Point(T0, 1.0)])
    naive = [Point(T0 + M, 2.0), Point(datetime(2026, 3, 1, 0, 1), 3.0)]
    with pytest.raises(ValueError, match="timezone-aware"):
        await sink.write(101, "apdex", naive)
    with pytest.raises(ValueError, match="whole seconds"):
        await sink.write(101, "apdex", [Point(T0 + M + timedelta(milliseconds=5), 2.0)])
    await sink.flush()
    await sink.close()
    if kind == "parquet":
        assert read_table(output(sink)).num_rows == 1
    elif kind == "sqlite":
        assert read_table(output(sink)) == [row(101, "apdex", Point(T0, 1.0))]
    else:
        (data,) = files(output(sink)).values()
        assert data.count(b"\n") == (2 if kind == "csv" else 1)


@pytest.mark.parametrize("kind", ["jsonl", "csv", "jsonl-dir"])
async def test_resume_of_columns_is_byte_identical_to_a_clean_run_of_lists(
    kind: str, tmp_path: Path
) -> None:
    chunks = [
        [Point(T0 + (s + i) * M, None if i == 1 else s + i / 4) for i in range(3)]
        for s in range(0, 12, 3)
    ]
    (tmp_path / "clean").mkdir()
    await write_all(FILES[kind](tmp_path / "clean"), [(101, "apdex", c) for c in chunks])

    (tmp_path / "crash").mkdir()
    crashed = FILES[kind](tmp_path / "crash")
    await crashed.open()
    await crashed.write(101, "apdex", columnar(chunks[0]))
    position = await crashed.flush()
    await crashed.write(101, "apdex", columnar(chunks[1]))
    await crashed.close()  # "crash": bytes past the position are on disk
    resumed = FILES[kind](tmp_path / "crash")
    await resumed.open(position)
    for points in chunks[1:]:
        await resumed.write(101, "apdex", columnar(points))
    await resumed.close()

    def contents(root: Path) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    assert contents(tmp_path / "crash") == contents(tmp_path / "clean")


def test_time_texts_are_format_time_of_each_time() -> None:
    # Whole seconds anywhere from 1900 to 2200, on no grid, and a minute grid across days.
    rng = random.Random(11)
    seconds = sorted(rng.randrange(-2_208_988_800, 7_258_118_400) for _ in range(5_000))
    seconds += list(range(1_772_409_000, 1_772_409_000 + 3 * 86_400, 60))
    seconds += [-1, 0, 59, 60, 86_399, 86_400]
    want = [format_time(datetime.fromtimestamp(s, UTC)) for s in seconds]
    assert format_epochs(seconds) == want
    assert format_epochs(Points(seconds, [0.0] * len(seconds)).times) == want
