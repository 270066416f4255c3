"""Several series side by side: long (a row per point, the sinks' columns) and wide (a column per
series, outer-joined on time), the same in Arrow, pandas and polars."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy
import pandas
import polars
import pyarrow
import pytest

from scout_async import ArgumentError, ArgumentTypeError, Series, frames
from scout_async.sinks import COLUMNS
from scout_async.types import Unit

from ._data import M, address, at, series

# Three series of different lengths and times: two metrics of app 101, one of app 102.
THROUGHPUT = series([10.0, None, 0.0], metric="throughput")
APDEX = series([0.9, 0.8, None, 1.0, 0.5], metric="apdex", minutes=[1, 2, 3, 4, 6])
OTHER = series([7.0], app_id=102, metric="throughput", minutes=[5])
SERIES = [THROUGHPUT, APDEX, OTHER]


def nan_to_none(values: list[Any]) -> list[Any]:
    return [None if isinstance(v, float) and math.isnan(v) else v for v in values]


# The long layout, row by row.
LONG_ROWS = [
    (101, "throughput", at(0), 10.0),
    (101, "throughput", at(1), None),
    (101, "throughput", at(2), 0.0),
    (101, "apdex", at(1), 0.9),
    (101, "apdex", at(2), 0.8),
    (101, "apdex", at(3), None),
    (101, "apdex", at(4), 1.0),
    (101, "apdex", at(6), 0.5),
    (102, "throughput", at(5), 7.0),
]
# The wide layout: every time any series has, each series' value there (None: no point, or
# Scout sent none).
WIDE_TIMES = [at(m) for m in (0, 1, 2, 3, 4, 5, 6)]
WIDE = {
    "101/throughput": [10.0, None, 0.0, None, None, None, None],
    "101/apdex": [None, 0.9, 0.8, None, 1.0, None, 0.5],
    "102/throughput": [None, None, None, None, None, 7.0, None],
}


def long_rows(library: str, data: Any) -> list[tuple[Any, ...]]:
    if library == "arrow":
        table = frames.to_arrow(data, layout="long")
        return list(zip(*(table.column(c).to_pylist() for c in COLUMNS), strict=True))
    if library == "pandas":
        frame = frames.to_pandas(data, layout="long")
        return list(
            zip(
                frame["app_id"].tolist(),
                frame["metric"].tolist(),
                [t.to_pydatetime() for t in frame["time"]],
                nan_to_none(frame["value"].tolist()),
                strict=True,
            )
        )
    frame = frames.to_polars(data, layout="long")
    return list(frame.iter_rows())


def wide_columns(library: str, data: Any) -> tuple[list[Any], dict[str, list[Any]]]:
    if library == "arrow":
        table = frames.to_arrow(data, layout="wide")
        columns = {name: table.column(name).to_pylist() for name in table.column_names[1:]}
        return table.column("time").to_pylist(), columns
    if library == "pandas":
        frame = frames.to_pandas(data, layout="wide")
        columns = {name: nan_to_none(frame[name].tolist()) for name in frame.columns}
        return [t.to_pydatetime() for t in frame.index], columns
    frame = frames.to_polars(data, layout="wide")
    return frame["time"].to_list(), {name: frame[name].to_list() for name in frame.columns[1:]}


LIBRARIES = ["arrow", "pandas", "polars"]


@pytest.mark.parametrize("library", LIBRARIES)
def test_long_is_a_row_per_point_series_after_series(library: str) -> None:
    assert long_rows(library, SERIES) == LONG_ROWS


@pytest.mark.parametrize("library", LIBRARIES)
def test_long_is_the_default_for_several_series(library: str) -> None:
    convert: Callable[..., Any] = getattr(frames, f"to_{library}")
    default, long = convert(SERIES), convert(SERIES, layout="long")
    if library == "pandas":
        pandas.testing.assert_frame_equal(default, long)
    else:
        assert default.equals(long)


@pytest.mark.parametrize("library", LIBRARIES)
def test_wide_is_a_column_per_series_outer_joined_on_time(library: str) -> None:
    times, columns = wide_columns(library, SERIES)
    assert times == WIDE_TIMES
    assert columns == WIDE
    assert list(columns) == list(WIDE)  # in the order given


def test_long_arrow_has_the_sinks_columns_and_types() -> None:
    table = frames.to_arrow(SERIES)
    assert tuple(table.column_names) == COLUMNS
    assert table.schema.types == [
        pyarrow.int64(),
        pyarrow.string(),
        pyarrow.timestamp("s", tz="UTC"),
        pyarrow.float64(),
    ]
    assert json.loads(table.schema.metadata[b"units"]) == {"throughput": "rpm", "apdex": "apdex"}
    assert table.schema.metadata[b"step_seconds"] == b"60"


def test_long_arrow_reads_each_series_in_place() -> None:
    table = frames.to_arrow(SERIES)
    for index, s in enumerate(SERIES):
        assert table.column("time").chunk(index).buffers()[1].address == address(s.times)
        assert table.column("value").chunk(index).buffers()[1].address == address(s.values)


def test_long_takes_several_steps_and_then_says_no_single_step() -> None:
    hourly = series([3.0], metric="apdex", step=60 * M)
    table = frames.to_arrow([THROUGHPUT, hourly])
    assert table.num_rows == 4
    assert b"step_seconds" not in table.schema.metadata
    frame = frames.to_pandas([THROUGHPUT, hourly])
    assert "step" not in frame.attrs
    assert frames.to_polars([THROUGHPUT, hourly]).height == 4


def test_long_pandas_types() -> None:
    frame = frames.to_pandas(SERIES)
    assert list(frame.columns) == list(COLUMNS)
    assert frame["app_id"].dtype == numpy.int64
    assert str(frame["time"].dtype) == "datetime64[s, UTC]"
    assert frame["value"].dtype == numpy.float64
    assert list(frame["metric"].cat.categories) == ["throughput", "apdex"]
    assert frame.index.tolist() == list(range(len(LONG_ROWS)))
    assert frame.attrs == {"units": {"throughput": "rpm", "apdex": "apdex"}, "step": M}


def test_long_polars_types() -> None:
    assert frames.to_polars(SERIES).schema == {
        "app_id": polars.Int64,
        "metric": polars.String,
        "time": polars.Datetime("ms", "UTC"),
        "value": polars.Float64,
    }


def test_wide_arrow_names_each_column_and_keeps_its_unit() -> None:
    table = frames.to_arrow(SERIES, layout="wide")
    assert table.column_names == ["time", "101/throughput", "101/apdex", "102/throughput"]
    assert table.schema.field("101/apdex").metadata == {
        b"app_id": b"101",
        b"metric": b"apdex",
        b"unit": b"apdex",
        b"unit_meaning": b"apdex score, 0 (all frustrated) to 1 (all satisfied)",
    }
    assert table.schema.metadata == {b"step_seconds": b"60"}
    assert table.schema.field("time").type == pyarrow.timestamp("s", tz="UTC")


def test_wide_pandas_and_polars_types() -> None:
    frame = frames.to_pandas(SERIES, layout="wide")
    assert str(frame.index.dtype) == "datetime64[s, UTC]"
    assert frame.index.name == "time"
    assert list(frame.dtypes) == [numpy.float64] * 3
    assert frame.attrs == {
        "units": {"101/throughput": "rpm", "101/apdex": "apdex", "102/throughput": "rpm"},
        "step": M,
    }
    assert frames.to_polars(SERIES, layout="wide").schema == {
        "time": polars.Datetime("ms", "UTC"),
        "101/throughput": polars.Float64,
        "101/apdex": polars.Float64,
        "102/throughput": polars.Float64,
    }


def test_wide_over_series_of_the_same_times_reads_arrow_in_place() -> None:
    a = series([1.0, None, 3.0], metric="throughput")
    b = series([None, 2.0, 0.0], metric="apdex")
    table = frames.to_arrow([a, b], layout="wide")
    assert table.column("time").chunk(0).buffers()[1].address == address(a.times)
    assert table.column("101/apdex").chunk(0).buffers()[1].address == address(b.values)
    assert table.column("101/throughput").to_pylist() == [1.0, None, 3.0]
    assert table.column("101/apdex").to_pylist() == [None, 2.0, 0.0]


@pytest.mark.parametrize("library", LIBRARIES)
def test_wide_joins_the_batches_of_one_series_into_one_column(library: str) -> None:
    # What metrics.stream_batches yields, collected: pieces of one series, in any order.
    first = series([1.0, None], minutes=[0, 1])
    empty = series([], minutes=[])
    second = series([3.0], minutes=[3])
    other = series([5.0, 6.0], metric="apdex", minutes=[1, 2])
    times, columns = wide_columns(library, [second, other, empty, first])
    assert times == [at(0), at(1), at(2), at(3)]
    assert columns == {
        "101/throughput": [1.0, None, None, 3.0],
        "101/apdex": [None, 5.0, 6.0, None],
    }


@pytest.mark.parametrize("library", LIBRARIES)
def test_wide_refuses_mixed_steps_before_any_work(library: str) -> None:
    hourly = series([3.0], app_id=102, metric="apdex", step=60 * M)
    convert: Callable[..., Any] = getattr(frames, f"to_{library}")
    with pytest.raises(ArgumentError) as caught:
        convert([THROUGHPUT, hourly], layout="wide")
    assert str(caught.value) == (
        f"to_{library}: a wide table needs every series at one step, got 1m (101/throughput), "
        "60m (102/apdex); convert each step on its own, or use layout='long'"
    )


@pytest.mark.parametrize("library", LIBRARIES)
def test_wide_refuses_one_series_given_twice_over_the_same_times(library: str) -> None:
    convert: Callable[..., Any] = getattr(frames, f"to_{library}")
    again = series([4.0, 5.0], minutes=[2, 3])
    with pytest.raises(ArgumentError) as caught:
        convert([THROUGHPUT, again], layout="wide")
    assert str(caught.value) == (
        f"to_{library}: the series 101/throughput is given more than once with overlapping "
        "times (at 2026-11-01T00:02:00Z); a wide table has one value per series and time"
    )
    with pytest.raises(ArgumentError, match=r"overlapping times \(at 2026-11-01T00:00:00Z\)"):
        convert([THROUGHPUT, THROUGHPUT], layout="wide")


@pytest.mark.parametrize("library", LIBRARIES)
def test_long_keeps_whatever_rows_it_is_given(library: str) -> None:
    assert len(long_rows(library, [THROUGHPUT, THROUGHPUT])) == 6


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("layout", ["long", "wide"])
def test_no_series_is_an_empty_table(library: str, layout: str) -> None:
    convert: Callable[..., Any] = getattr(frames, f"to_{library}")
    result = convert([], layout=layout)
    assert len(result) == 0
    if layout == "long":
        assert list(result.columns if library != "arrow" else result.column_names) == list(COLUMNS)


@pytest.mark.parametrize("library", LIBRARIES)
def test_empty_series_among_others(library: str) -> None:
    empty = series([], metric="errors", minutes=[])
    assert long_rows(library, [empty, *SERIES, empty]) == LONG_ROWS
    times, columns = wide_columns(library, [*SERIES, empty])
    assert times == WIDE_TIMES
    assert columns == {**WIDE, "101/errors": [None] * len(WIDE_TIMES)}


@pytest.mark.parametrize("library", LIBRARIES)
def test_one_series_with_a_layout_is_a_table_of_one(library: str) -> None:
    assert long_rows(library, THROUGHPUT) == LONG_ROWS[:3]
    times, columns = wide_columns(library, THROUGHPUT)
    assert times == [at(0), at(1), at(2)]
    assert columns == {"101/throughput": [10.0, None, 0.0]}


@pytest.mark.parametrize("library", LIBRARIES)
def test_any_iterable_of_series_and_a_mapping_s_values(library: str) -> None:
    def generated() -> Iterator[Series]:
        yield from SERIES

    assert long_rows(library, generated()) == LONG_ROWS
    assert long_rows(library, tuple(SERIES)) == LONG_ROWS
    assert long_rows(library, {"a": THROUGHPUT, "b": APDEX, "c": OTHER}) == LONG_ROWS


def test_wide_of_many_long_ragged_series_matches_a_plain_outer_join() -> None:
    # 12 series, each missing its own buckets: the join by hand, point by point.
    many = []
    for index in range(12):
        minutes = [m for m in range(500) if (m * (index + 3)) % 7 != 0]
        values: list[float | None] = [
            None if m % 11 == index else float(m * index) for m in minutes
        ]
        many.append(series(values, app_id=100 + index // 3, metric=f"m{index}", minutes=minutes))
    grid = sorted({t for s in many for t in s.times})
    expected: dict[str, list[float | None]] = {}
    for s in many:
        by_time = dict(zip(s.times, s.values, strict=True))
        expected[f"{s.app_id}/{s.metric}"] = [
            None if t not in by_time or math.isnan(by_time[t]) else by_time[t] for t in grid
        ]
    for library in LIBRARIES:
        times, columns = wide_columns(library, many)
        assert [int(t.timestamp()) for t in times] == grid, library
        assert columns == expected, library


@pytest.mark.parametrize("layout", [None, "long", "wide"])
def test_units_are_keyed_as_each_frames_columns_and_agree_with_its_metadata(
    layout: str | None,
) -> None:
    units = frames.units(SERIES, layout=layout)  # type: ignore[arg-type]
    assert all(isinstance(unit, Unit) for unit in units.values())
    symbols = {name: unit.symbol for name, unit in units.items()}
    pandas_frame = frames.to_pandas(SERIES, layout=layout)  # type: ignore[arg-type]
    assert pandas_frame.attrs["units"] == symbols
    polars_frame = frames.to_polars(SERIES, layout=layout)  # type: ignore[arg-type]
    if layout == "wide":
        # A unit for every value column of the polars frame, none for another.
        assert list(units) == polars_frame.columns[1:]
        table = frames.to_arrow(SERIES, layout="wide")
        for name, unit in units.items():
            assert table.schema.field(name).metadata[b"unit_meaning"] == unit.meaning.encode()
    else:
        assert list(units) == polars_frame["metric"].unique(maintain_order=True).to_list()
        assert symbols == {"throughput": "rpm", "apdex": "apdex"}


def test_units_of_one_series_name_its_value_column() -> None:
    units = frames.units(APDEX)
    assert list(units) == [c for c in frames.to_polars(APDEX).columns if c != "time"] == ["value"]
    assert units["value"] == Unit("apdex", "apdex score, 0 (all frustrated) to 1 (all satisfied)")
    assert frames.units([]) == {}
    # A job's metric has its unit; a metric Scout does not document says so.
    assert frames.units(series([1.0], metric="latency"))["value"].symbol == "ms"
    assert frames.units(series([1.0], metric="gc_time"))["value"] == Unit("", "not documented")


def test_units_check_their_input_as_the_frames_do() -> None:
    with pytest.raises(ArgumentTypeError, match="units takes a Series or an iterable of Series"):
        frames.units("101/apdex")  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="units: layout must be 'long' or 'wide'"):
        frames.units(SERIES, layout="tall")  # type: ignore[arg-type]
    hourly = series([3.0], metric="apdex", step=60 * M)
    with pytest.raises(ArgumentError, match="units: a wide table needs every series at one step"):
        frames.units([THROUGHPUT, hourly], layout="wide")
