"""Times are times in every sink with a type for them: SQLite's date functions read its ``time``
column, Parquet stores ``timestamp[ms, tz=UTC]`` (PostgreSQL's ``timestamptz`` is in
test_postgres.py)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

from scout_async import Point
from scout_async.sinks import ParquetSink, SqliteSink

UTC = timezone.utc
T0 = datetime(2026, 3, 1, tzinfo=UTC)
M = timedelta(minutes=1)
POINTS = [Point(T0 + i * M, None if i == 1 else float(i)) for i in range(5)]


async def test_sqlite_times_are_read_by_sqlites_date_functions(tmp_path: Path) -> None:
    sink = SqliteSink(tmp_path / "p.db")
    await sink.open()
    await sink.write(101, "apdex", POINTS)
    await sink.close()
    with sqlite3.connect(tmp_path / "p.db") as db:
        found = db.execute(
            "SELECT time, unixepoch(time), datetime(time), strftime('%H:%M', time) FROM points "
            "ORDER BY time"
        ).fetchall()
        assert found[0] == (
            "2026-03-01T00:00:00Z",
            int(T0.timestamp()),
            "2026-03-01 00:00:00",
            "00:00",
        )
        assert [epoch for _, epoch, _, _ in found] == [
            int((T0 + i * M).timestamp()) for i in range(5)
        ]
        # Range queries: through unixepoch(), or on the text itself with bounds written the same
        # way (ISO 8601 in UTC with Z sorts in time order).
        (count,) = db.execute(
            "SELECT count(*) FROM points WHERE unixepoch(time) >= unixepoch(?) "
            "AND unixepoch(time) < unixepoch(?, '+2 minutes')",
            ("2026-03-01T00:01:00Z", "2026-03-01T00:01:00Z"),
        ).fetchone()
        assert count == 2
        (count,) = db.execute(
            "SELECT count(*) FROM points WHERE time >= ? AND time < ?",
            ("2026-03-01T00:01:00Z", "2026-03-01T00:03:00Z"),
        ).fetchone()
        assert count == 2


async def test_parquet_times_are_utc_timestamps(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    sink = ParquetSink(tmp_path / "p.parquet")
    await sink.open()
    await sink.write(101, "apdex", POINTS)
    await sink.close()
    table = pq.read_table(tmp_path / "p.parquet")
    assert table.schema.field("time").type == pa.timestamp("ms", tz="UTC")
    assert table.schema.field("app_id").type == pa.int64()
    assert table.schema.field("value").type == pa.float64()
    assert [t.astimezone(UTC) for t in table.column("time").to_pylist()] == [p.time for p in POINTS]
    assert table.column("value").to_pylist() == [p.value for p in POINTS]
    later = table.filter(
        pc.greater_equal(table["time"], pa.scalar(T0 + 3 * M, pa.timestamp("ms", "UTC")))
    )
    assert later.num_rows == 2
    metadata = pq.ParquetFile(next((tmp_path / "p.parquet").glob("part-*.parquet"))).schema
    assert "isAdjustedToUTC=true" in str(metadata.column(2).logical_type)
