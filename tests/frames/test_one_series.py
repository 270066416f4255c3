"""One series as an Arrow table, a pandas DataFrame, a polars DataFrame: exact values and times,
a missing value kept apart from 0, times aware UTC, the unit in the metadata, Arrow reading the
series' own arrays."""

from __future__ import annotations

import gc
import math
from datetime import timedelta, timezone

import numpy
import pandas
import polars
import pyarrow
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scout_async import Point, Points, Series, frames

from ._data import E0, T0, M, address, at, series

VALUES: list[float | None] = [1.5, None, 0.0, -2.0, None, 1e300]


# -- Arrow -------------------------------------------------------------------------------------


def test_arrow_round_trips_times_values_and_nulls_exactly() -> None:
    s = series(VALUES)
    table = s.to_arrow()
    assert table.column_names == ["time", "value"]
    assert table.schema.field("time").type == pyarrow.timestamp("s", tz="UTC")
    assert table.schema.field("value").type == pyarrow.float64()
    assert table.column("value").to_pylist() == VALUES
    assert table.column("value").null_count == 2
    times = table.column("time").to_pylist()
    assert times == [at(i) for i in range(len(VALUES))]
    assert all(t.utcoffset() == timedelta(0) for t in times)
    assert table.column("time").cast(pyarrow.int64()).to_pylist() == list(s.times)


def test_arrow_keeps_a_missing_value_apart_from_zero() -> None:
    table = series([0.0, None]).to_arrow()
    zero, missing = table.column("value").to_pylist()
    assert zero == 0.0
    assert missing is None


def test_arrow_reads_the_series_arrays_in_place() -> None:
    s = series(VALUES)
    table = s.to_arrow()
    times = table.column("time").chunk(0)
    values = table.column("value").chunk(0)
    assert times.buffers()[1].address == address(s.times)
    assert values.buffers()[1].address == address(s.values)
    # Only the validity bitmap is new: one bit a point.
    assert values.buffers()[0].size * 8 >= len(VALUES)
    assert values.buffers()[0].size <= 64


def test_arrow_without_missing_values_has_no_bitmap() -> None:
    values = series([1.0, 2.0, 0.0]).to_arrow().column("value").chunk(0)
    assert values.null_count == 0
    assert values.buffers()[0] is None


def test_the_table_outlives_the_series() -> None:
    table = series([1.0, None, 3.0]).to_arrow()
    gc.collect()
    assert table.column("value").to_pylist() == [1.0, None, 3.0]
    assert table.column("time").to_pylist() == [T0, at(1), at(2)]


def test_arrow_metadata_holds_the_unit_the_series_and_its_step() -> None:
    table = series([1.0], app_id=102, metric="response_time", step=5 * M).to_arrow()
    assert table.schema.field("value").metadata == {
        b"unit": b"ms",
        b"unit_meaning": b"milliseconds",
    }
    assert table.schema.metadata == {
        b"app_id": b"102",
        b"metric": b"response_time",
        b"step_seconds": b"300",
    }


@pytest.mark.parametrize(
    ("metric", "unit"),
    [
        ("apdex", "apdex"),
        ("throughput", "rpm"),
        ("errors", "errors"),
        ("queue_time", "ms"),
        ("execution_time", "ms"),
        ("allocations", "allocs"),
        ("something_new", ""),
    ],
)
def test_every_metric_has_its_unit(metric: str, unit: str) -> None:
    field = series([1.0], metric=metric).to_arrow().schema.field("value")
    assert field.metadata[b"unit"] == unit.encode()


def test_arrow_metadata_has_the_summary_and_the_partial_bucket_where_set() -> None:
    table = series([1.0, 0.0], summary=12.5, partial_from=at(1)).to_arrow()
    assert table.schema.metadata[b"summary"] == b"12.5"
    assert table.schema.metadata[b"partial_from"] == b"2026-11-01T00:01:00+00:00"


def test_an_empty_series_is_an_empty_table_of_the_same_schema() -> None:
    table = series([]).to_arrow()
    assert table.num_rows == 0
    assert table.schema == series([1.0]).to_arrow().schema


def test_points_to_arrow_arrays_reads_points_in_place_and_converts_other_sequences() -> None:
    s = series([2.0, None])
    times, values = frames.points_to_arrow_arrays(s.points)
    assert times.type == pyarrow.timestamp("s", tz="UTC")
    assert times.buffers()[1].address == address(s.times)
    assert values.to_pylist() == [2.0, None]
    listed = [Point(T0, 2.0), Point(at(1), None)]
    times, values = frames.points_to_arrow_arrays(listed)
    assert times.to_pylist() == [T0, at(1)]
    assert values.to_pylist() == [2.0, None]


finite_or_missing = st.one_of(
    st.none(), st.floats(allow_nan=False), st.sampled_from([0.0, -0.0, math.inf, -math.inf])
)


@given(st.lists(finite_or_missing, max_size=300))
def test_any_values_round_trip_through_arrow_pandas_and_polars(
    values: list[float | None],
) -> None:
    s = series(values)
    expected = [None if v is None else v for v in values]
    assert s.to_arrow().column("value").to_pylist() == expected
    assert s.to_polars()["value"].to_list() == expected
    as_pandas = s.to_pandas()["value"].tolist()
    assert [None if math.isnan(v) else v for v in as_pandas] == expected

    # -0.0 stays -0.0 (equal to 0.0, so compare the sign too).
    def signs(values: list[float | None]) -> list[float]:
        return [math.copysign(1, v) for v in values if v is not None]

    assert signs(s.to_arrow().column("value").to_pylist()) == signs(expected)
    assert signs(s.to_polars()["value"].to_list()) == signs(expected)


# -- pandas ------------------------------------------------------------------------------------


def test_pandas_indexes_by_aware_utc_time_with_nan_for_missing() -> None:
    s = series(VALUES)
    frame = s.to_pandas()
    assert list(frame.columns) == ["value"]
    assert frame.index.name == "time"
    assert str(frame.index.dtype) == "datetime64[s, UTC]"
    assert frame.index.tz is not None
    assert frame.index.tz.utcoffset(None) == timedelta(0)
    assert frame["value"].dtype == numpy.float64
    assert list(frame.index) == [pandas.Timestamp(at(i)) for i in range(len(VALUES))]
    assert [t.to_pydatetime() for t in frame.index] == [at(i) for i in range(len(VALUES))]
    got = frame["value"].tolist()
    assert [None if math.isnan(v) else v for v in got] == VALUES
    assert frame["value"].isna().tolist() == [v is None for v in VALUES]


def test_pandas_keeps_a_missing_value_apart_from_zero() -> None:
    frame = series([0.0, None]).to_pandas()
    assert frame["value"].iloc[0] == 0.0
    assert math.isnan(frame["value"].iloc[1])


def test_pandas_attrs_hold_the_series_and_its_unit() -> None:
    frame = series([1.0], metric="apdex", step=10 * M, partial_from=T0).to_pandas()
    assert frame.attrs == {
        "app_id": 101,
        "metric": "apdex",
        "step": timedelta(minutes=10),
        "unit": "apdex",
        "partial_from": T0,
    }


def test_a_pandas_frame_is_its_own_and_can_be_changed() -> None:
    s = series([1.0, 2.0])
    frame = s.to_pandas()
    frame.iloc[0, 0] = 9.0
    frame["value"] *= 2
    assert list(s.values) == [1.0, 2.0]
    assert frame["value"].tolist() == [18.0, 4.0]


def test_pandas_works_on_time() -> None:
    s = series([1.0, None, 3.0, 5.0], minutes=[0, 1, 60, 61])
    hourly = s.to_pandas()["value"].resample("1h").mean()
    assert hourly.tolist() == [1.0, 4.0]
    assert hourly.index[1] == pandas.Timestamp("2026-11-01T01:00:00Z")


def test_an_empty_series_is_an_empty_pandas_frame() -> None:
    frame = series([]).to_pandas()
    assert len(frame) == 0
    assert str(frame.index.dtype) == "datetime64[s, UTC]"
    assert frame["value"].dtype == numpy.float64


# -- polars ------------------------------------------------------------------------------------


def test_polars_has_utc_times_and_nulls_for_missing() -> None:
    s = series(VALUES)
    frame = s.to_polars()
    assert frame.schema == {"time": polars.Datetime("ms", "UTC"), "value": polars.Float64}
    assert frame["value"].to_list() == VALUES
    assert frame["value"].null_count() == 2
    times = frame["time"].to_list()
    assert times == [at(i) for i in range(len(VALUES))]
    assert all(t.utcoffset() == timedelta(0) for t in times)


def test_polars_keeps_a_missing_value_apart_from_zero() -> None:
    assert series([0.0, None]).to_polars()["value"].to_list() == [0.0, None]


def test_changing_a_polars_frame_leaves_the_series_alone() -> None:
    s = series([1.0, 2.0])
    frame = s.to_polars()
    frame[0, "value"] = 9.0
    assert frame["value"].to_list() == [9.0, 2.0]
    assert list(s.values) == [1.0, 2.0]


def test_an_empty_series_is_an_empty_polars_frame() -> None:
    frame = series([]).to_polars()
    assert frame.height == 0
    assert frame.schema == {"time": polars.Datetime("ms", "UTC"), "value": polars.Float64}


# -- all three ---------------------------------------------------------------------------------


def test_the_methods_and_the_functions_agree() -> None:
    s = series(VALUES)
    assert s.to_arrow().equals(frames.to_arrow(s))
    assert s.to_polars().equals(frames.to_polars(s))
    pandas.testing.assert_frame_equal(s.to_pandas(), frames.to_pandas(s))


def test_times_far_from_1970_are_exact() -> None:
    # 2262-04-12 is past datetime64[ns]'s range; seconds hold it.
    far = 9_300_000_000
    s = Series(101, "throughput", M, Points([E0, far], [1.0, 2.0]))
    expected = [T0, pandas.Timestamp(far, unit="s", tz=timezone.utc).to_pydatetime()]
    assert s.to_arrow().column("time").to_pylist() == expected
    assert [t.to_pydatetime() for t in s.to_pandas().index] == expected
    assert s.to_polars()["time"].to_list() == expected
