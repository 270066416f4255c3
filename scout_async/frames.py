"""Series as Arrow tables and pandas or polars DataFrames, one series or many side by side.

Each output needs its own extra; a missing one raises ``ImportError`` naming it in one line:

- ``to_arrow``: ``pip install 'scout-async[arrow]'`` (pyarrow). The ``time`` and ``value``
  columns are the series' own arrays, not copies: Arrow reads ``series.times`` and
  ``series.values`` in place and adds only a validity bitmap (one bit a point) where values
  are missing.
- ``to_pandas``: ``pip install 'scout-async[pandas]'`` (pandas, which brings numpy). pandas
  copies the arrays into a frame it owns (8 bytes a point each), so it can be changed freely.
- ``to_polars``: ``pip install 'scout-async[polars]'`` (polars and numpy, through which the
  arrays reach polars without a Python object per point).

Times are aware UTC: Arrow ``timestamp[s, tz=UTC]``, pandas ``datetime64[s, UTC]``, polars
``Datetime("ms", "UTC")`` (polars has no unit of seconds). A value Scout sent as null (``NaN``
in ``series.values``) is a null in Arrow and polars and ``NaN`` in pandas, never a 0.

One ``Series`` gives the columns ``time`` and ``value`` (pandas: ``value`` indexed by ``time``).
Several, any iterable of ``Series`` (a list of ``metrics.get`` results, the batches of
``metrics.stream_batches`` collected, a dict's values), in one of two layouts:

- ``layout="long"`` (the default for several): a row per point, the columns ``app_id``,
  ``metric``, ``time``, ``value`` (the sinks' ``COLUMNS``), series after series;
- ``layout="wide"``: one ``time`` column and one value column per series, named
  ``"{app_id}/{metric}"`` (``"101/throughput"``), outer-joined on time (a series without a point
  at a time has a null there). Every series must have the same step; the batches of one series
  are joined into one column.

Units and the rest in the metadata. Arrow, one series: ``value``'s field metadata ``unit`` and
``unit_meaning``, the schema's ``app_id``, ``metric``, ``step_seconds`` (and ``summary``,
``partial_from`` where set); wide: each value column's field metadata ``app_id``, ``metric``,
``unit``, ``unit_meaning``, the schema's ``step_seconds``; long: the schema's ``units`` (JSON,
metric to unit) and ``step_seconds`` (when every series has the same). pandas keeps the same in
``DataFrame.attrs``. polars frames carry no metadata (polars has no place for it):
``frames.units(data, layout=...)`` gives the same units for any of them, keyed by the frame's
column (one series: ``value``; wide: each value column; long: each metric). A ``Series`` does
not say whether it is an
app's, an endpoint's or a job's, so the unit is the app metric's (``throughput``: requests per
minute, also for a job's series, whose throughput is jobs per minute).

>>> series = await client.metrics.get(101, "response_time", start=t0, end=t1)
>>> series.to_arrow()                        # or frames.to_arrow(series)
>>> frames.to_pandas([s1, s2, s3], layout="wide")
>>> batches = [b async for b in client.metrics.stream_batches(101, "throughput", start=t0, end=t1)]
>>> frames.to_polars(batches)                # long: app_id, metric, time, value
>>> frames.units(batches)                    # {"throughput": Unit(symbol='rpm', ...)}
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from itertools import pairwise
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

from ._exceptions import ArgumentError, ArgumentTypeError
from ._time import display_time
from ._units import Unit, series_unit
from .types._models import Series
from .types._points import Point, Points

if TYPE_CHECKING:
    import pandas
    import polars
    import pyarrow

__all__ = [
    "Layout",
    "SeriesInput",
    "points_to_arrow_arrays",
    "to_arrow",
    "to_pandas",
    "to_polars",
    "units",
]

#: How several series are laid out: a row per point (``"long"``) or a column per series.
Layout = Literal["long", "wide"]
_LAYOUTS = ("long", "wide")

#: What ``to_arrow``, ``to_pandas`` and ``to_polars`` take: one series or several.
SeriesInput = Series | Iterable[Series] | Mapping[Any, Series]


def _require(module: str, caller: str, extra: str, package: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{caller} needs {package}, which is not installed: "
            f"pip install 'scout-async[{extra}]' (or pip install {package})"
        ) from exc


def _pyarrow(caller: str) -> tuple[Any, Any]:
    pa = _require("pyarrow", caller, "arrow", "pyarrow")
    return pa, _require("pyarrow.compute", caller, "arrow", "pyarrow")


def _numpy(caller: str, extra: str) -> Any:
    return _require("numpy", caller, extra, "numpy")


# -- input -------------------------------------------------------------------------------------


class _Many:
    """Several series, checked: the pieces in the order given, and the layout."""

    def __init__(self, series: list[Series], layout: Layout) -> None:
        self.series = series
        self.layout = layout


def _collect(data: object, layout: object, caller: str) -> Series | _Many:
    """``data`` as one series (no layout asked) or several, every argument checked."""
    chosen: Layout | None = None
    if layout is not None:
        if not isinstance(layout, str):
            raise ArgumentTypeError(
                f"{caller}: layout must be 'long' or 'wide', got {type(layout).__name__}"
            )
        if layout not in _LAYOUTS:
            raise ArgumentError(f"{caller}: layout must be 'long' or 'wide', got {layout!r}")
        chosen = "long" if layout == "long" else "wide"
    if isinstance(data, Series):
        return data if chosen is None else _Many([data], chosen)
    if isinstance(data, (str, bytes, Points, Point)) or not isinstance(data, Iterable):
        raise ArgumentTypeError(
            f"{caller} takes a Series or an iterable of Series, got {type(data).__name__}"
            + (
                " (to convert bare points, use scout_async.frames.points_to_arrow_arrays)"
                if isinstance(data, (Points, Point))
                else ""
            )
        )
    items = list(data.values() if isinstance(data, Mapping) else data)
    for index, item in enumerate(items):
        if not isinstance(item, Series):
            raise ArgumentTypeError(
                f"{caller} takes a Series or an iterable of Series; item {index} is a "
                f"{type(item).__name__}"
            )
    many = _Many(items, chosen or "long")
    if many.layout == "wide":
        _check_steps(items, caller)
    return many


def _name(series: Series) -> str:
    return f"{series.app_id}/{series.metric}"


def _step_text(step: timedelta) -> str:
    seconds = step.total_seconds()
    if seconds % 60 == 0:
        return f"{int(seconds // 60)}m"
    return f"{seconds:g}s"


def _step_seconds(step: timedelta) -> str:
    seconds = step.total_seconds()
    return str(int(seconds)) if seconds == int(seconds) else repr(seconds)


def _check_steps(items: Sequence[Series], caller: str) -> None:
    steps: dict[timedelta, Series] = {}
    for series in items:
        steps.setdefault(series.step, series)
    if len(steps) > 1:
        shown = ", ".join(f"{_step_text(step)} ({_name(s)})" for step, s in steps.items())
        raise ArgumentError(
            f"{caller}: a wide table needs every series at one step, got {shown}; "
            "convert each step on its own, or use layout='long'"
        )


def _columns(items: Sequence[Series], caller: str) -> list[tuple[Series, Points]]:
    """The wide layout's columns: one per (app_id, metric), its pieces (batches) joined in time
    order, in the order each first appears. Pieces that overlap in time are refused."""
    pieces: dict[tuple[int, str], list[Series]] = {}
    for series in items:
        pieces.setdefault((series.app_id, series.metric), []).append(series)
    columns = []
    for parts in pieces.values():
        if len(parts) == 1:
            columns.append((parts[0], parts[0].points))
            continue
        filled = sorted((p for p in parts if len(p.points)), key=lambda p: p.points.times[0])
        for before, after in pairwise(filled):
            if after.points.times[0] <= before.points.times[-1]:
                at = datetime.fromtimestamp(after.points.times[0], timezone.utc)
                raise ArgumentError(
                    f"{caller}: the series {_name(parts[0])} is given more than once with "
                    f"overlapping times (at {display_time(at)}); a wide table has one value "
                    "per series and time"
                )
        columns.append((parts[0], Points.concat(p.points for p in filled)))
    return columns


def _metadata(series: Series) -> dict[str, str]:
    meta = {
        "app_id": str(series.app_id),
        "metric": series.metric,
        "step_seconds": _step_seconds(series.step),
    }
    if series.summary is not None:
        meta["summary"] = repr(float(series.summary))
    if series.partial_from is not None:
        meta["partial_from"] = series.partial_from.isoformat()
    return meta


def _unit(metric: str) -> dict[str, str]:
    unit = series_unit(metric)
    return {"unit": unit.symbol, "unit_meaning": unit.meaning}


def _long_metadata(items: Sequence[Series]) -> dict[str, str]:
    meta = {"units": json.dumps({s.metric: series_unit(s.metric).symbol for s in items})}
    steps = {s.step for s in items}
    if len(steps) == 1:
        meta["step_seconds"] = _step_seconds(steps.pop())
    return meta


def units(data: SeriesInput, *, layout: Layout | None = None) -> dict[str, Unit]:
    """The unit of each value column of the frame ``data`` makes in ``layout``, keyed as that
    frame is: one series ``{"value": unit}``; wide ``{"101/apdex": unit, ...}`` (each value
    column, in the columns' order); long ``{"apdex": unit, ...}`` (each metric, in the order
    first met). The same units the Arrow metadata and pandas' ``attrs`` carry, for polars
    frames, which carry none. Needs no extra.

    >>> frame = frames.to_polars(many, layout="wide")
    >>> {name: unit.symbol for name, unit in frames.units(many, layout="wide").items()}
    {'101/throughput': 'rpm', '101/apdex': 'apdex'}
    """
    collected = _collect(data, layout, "units")
    if isinstance(collected, Series):
        return {"value": series_unit(collected.metric)}
    if collected.layout == "long":
        return {s.metric: series_unit(s.metric) for s in collected.series}
    return {_name(s): series_unit(s.metric) for s, _ in _columns(collected.series, "units")}


# -- Arrow -------------------------------------------------------------------------------------


def _arrow_arrays(pa: Any, pc: Any, points: Points) -> tuple[Any, Any]:
    count = len(points)
    times = pa.Array.from_buffers(
        pa.timestamp("s", tz="UTC"), count, [None, pa.py_buffer(points.times)]
    )
    data = pa.py_buffer(points.values)
    values = pa.Array.from_buffers(pa.float64(), count, [None, data])
    if count:
        missing = pc.is_nan(values)
        nulls = pc.sum(missing).as_py()
        if nulls:
            # The validity bitmap is exactly "not NaN" bit-packed; the values stay in place
            # (a null slot keeps its NaN, which Arrow never reads).
            valid = pc.invert(missing).buffers()[1]
            values = pa.Array.from_buffers(pa.float64(), count, [valid, data], null_count=nulls)
    return times, values


def points_to_arrow_arrays(points: Sequence[Point]) -> tuple[pyarrow.Array, pyarrow.Array]:
    """``points`` as two Arrow arrays: times (``timestamp[s, tz=UTC]``) and values (float64,
    null where missing).

    A ``Points`` (what a ``Series`` holds, what the built-in sinks receive) is read in place:
    both arrays use its buffers, and only a validity bitmap is made where a value is missing.
    Any other sequence of ``Point`` is converted first. Needs pyarrow
    (``pip install 'scout-async[arrow]'``).

    >>> times, values = points_to_arrow_arrays(series.points)
    >>> times.buffers()[1].address  # the same memory as series.times
    """
    pa, pc = _pyarrow("points_to_arrow_arrays")
    if isinstance(points, (str, bytes)) or not isinstance(points, Iterable):
        raise ArgumentTypeError(
            f"points_to_arrow_arrays takes a sequence of Point, got {type(points).__name__}"
        )
    if not isinstance(points, Points):
        for index, point in enumerate(points):
            if not isinstance(point, Point):
                raise ArgumentTypeError(
                    f"points_to_arrow_arrays takes a sequence of Point; item {index} is a "
                    f"{type(point).__name__}"
                )
        try:
            points = Points.from_points(points)
        except ValueError as exc:  # a naive time, or one not in whole seconds
            raise ArgumentError(f"points_to_arrow_arrays: {exc}") from None
    return _arrow_arrays(pa, pc, points)


def to_arrow(data: SeriesInput, *, layout: Layout | None = None) -> pyarrow.Table:
    """One series, or several in ``layout`` (``"long"``, the default, or ``"wide"``), as a
    ``pyarrow.Table``; see the module's documentation. Needs ``pip install 'scout-async[arrow]'``.

    One series: ``time`` (``timestamp[s, tz=UTC]``) and ``value`` (float64, null where Scout
    sent none), read in place from the series' arrays; the unit in ``value``'s field metadata,
    ``app_id``, ``metric`` and ``step_seconds`` in the schema's.

    >>> table = series.to_arrow()
    >>> table.schema.field("value").metadata[b"unit"]
    b'ms'
    """
    pa, pc = _pyarrow("to_arrow")
    collected = _collect(data, layout, "to_arrow")
    if isinstance(collected, Series):
        times, values = _arrow_arrays(pa, pc, collected.points)
        schema = pa.schema(
            [
                pa.field("time", times.type, nullable=False),
                pa.field("value", pa.float64(), metadata=_unit(collected.metric)),
            ],
            metadata=_metadata(collected),
        )
        return pa.Table.from_arrays([times, values], schema=schema)
    if collected.layout == "long":
        return _arrow_long(pa, pc, collected.series)
    return _arrow_wide(pa, pc, collected.series)


def _arrow_long(pa: Any, pc: Any, items: Sequence[Series]) -> Any:
    schema = pa.schema(
        [
            pa.field("app_id", pa.int64(), nullable=False),
            pa.field("metric", pa.string(), nullable=False),
            pa.field("time", pa.timestamp("s", tz="UTC"), nullable=False),
            pa.field("value", pa.float64()),
        ],
        metadata=_long_metadata(items),
    )
    batches = []
    for series in items:
        times, values = _arrow_arrays(pa, pc, series.points)
        count = len(times)
        columns = [
            pa.repeat(pa.scalar(series.app_id, pa.int64()), count),
            pa.repeat(pa.scalar(series.metric, pa.string()), count),
            times,
            values,
        ]
        batches.append(pa.RecordBatch.from_arrays(columns, schema=schema))
    return pa.Table.from_batches(batches, schema=schema)


def _arrow_wide(pa: Any, pc: Any, items: Sequence[Series]) -> Any:
    columns = _columns(items, "to_arrow")
    time_type = pa.timestamp("s", tz="UTC")
    fields = [pa.field("time", time_type, nullable=False)]
    arrays: list[Any] = []
    pieces = [_int64(pa, points.times) for _, points in columns]
    if not pieces:
        times = pa.array([], type=time_type)
    elif all(piece.equals(pieces[0]) for piece in pieces):
        # The common case (several metrics of one window): one time column, read in place.
        for _, points in columns:
            arrays.append(_arrow_arrays(pa, pc, points)[1])
        times = pieces[0].view(time_type)
    else:
        distinct = pc.unique(pa.concat_arrays(pieces))
        union = pc.take(distinct, pc.sort_indices(distinct))
        for (_, points), piece in zip(columns, pieces, strict=True):
            where = pc.index_in(union, value_set=piece)
            arrays.append(pc.take(_arrow_arrays(pa, pc, points)[1], where))
        times = union.view(time_type)
    for series, _ in columns:
        meta = {"app_id": str(series.app_id), "metric": series.metric, **_unit(series.metric)}
        fields.append(pa.field(_name(series), pa.float64(), metadata=meta))
    step = {"step_seconds": _step_seconds(columns[0][0].step)} if columns else {}
    schema = pa.schema(fields, metadata=step)
    return pa.Table.from_arrays([times, *arrays], schema=schema)


def _int64(pa: Any, times: memoryview) -> Any:
    return pa.Array.from_buffers(pa.int64(), len(times), [None, pa.py_buffer(times)])


# -- pandas ------------------------------------------------------------------------------------


def to_pandas(data: SeriesInput, *, layout: Layout | None = None) -> pandas.DataFrame:
    """One series, or several in ``layout`` (``"long"``, the default, or ``"wide"``), as a pandas
    ``DataFrame``; see the module's documentation. Needs ``pip install 'scout-async[pandas]'``.

    One series: the column ``value`` (float64, ``NaN`` where Scout sent none) indexed by
    ``time`` (``datetime64[s, UTC]``); ``attrs`` holds ``app_id``, ``metric``, ``step`` and
    ``unit``. Wide: indexed by ``time`` too, a column per series. Long: the columns ``app_id``,
    ``metric`` (a categorical: a small code a row), ``time``, ``value`` on a ``RangeIndex``.

    >>> frame = series.to_pandas()
    >>> frame["value"].resample("1h").mean()
    """
    pd = _require("pandas", "to_pandas", "pandas", "pandas")
    np = _numpy("to_pandas", "pandas")
    collected = _collect(data, layout, "to_pandas")
    if isinstance(collected, Series):
        frame = pd.DataFrame(
            {"value": _np_values(np, collected.points)},
            index=_pd_times(pd, _np_times(np, collected.points.times)),
        )
        frame.attrs.update(
            app_id=collected.app_id,
            metric=collected.metric,
            step=collected.step,
            unit=series_unit(collected.metric).symbol,
        )
        if collected.partial_from is not None:
            frame.attrs["partial_from"] = collected.partial_from
        return frame
    if collected.layout == "long":
        items = collected.series
        counts = [len(s.points) for s in items]
        frame = pd.DataFrame(
            {
                "app_id": np.repeat(np.array([s.app_id for s in items], dtype=np.int64), counts),
                "metric": _pd_labels(pd, np, [s.metric for s in items], counts),
                "time": _pd_times(pd, _np_concat(np, [s.points.times for s in items], "q")),
                "value": _np_concat(np, [s.points.values for s in items], "d"),
            }
        )
        frame.attrs.update(units={s.metric: series_unit(s.metric).symbol for s in items})
        steps = {s.step for s in items}
        if len(steps) == 1:
            frame.attrs["step"] = steps.pop()
        return frame
    columns = _columns(collected.series, "to_pandas")
    times, values = _np_wide(np, columns)
    frame = pd.DataFrame(
        {_name(series): column for (series, _), column in zip(columns, values, strict=True)},
        index=_pd_times(pd, times),
        columns=[_name(series) for series, _ in columns],
        dtype="float64",
    )
    frame.attrs.update(units={_name(s): series_unit(s.metric).symbol for s, _ in columns})
    if columns:
        frame.attrs["step"] = columns[0][0].step
    return frame


def _pd_labels(pd: Any, np: Any, labels: list[str], counts: list[int]) -> Any:
    """``labels[i]`` ``counts[i]`` times each, as a categorical (a code a row, not a string)."""
    categories = list(dict.fromkeys(labels))
    codes = np.array([categories.index(label) for label in labels], dtype=np.int32)
    return pd.Categorical.from_codes(np.repeat(codes, counts), categories=categories)


def _np_times(np: Any, times: memoryview) -> Any:
    return np.frombuffer(times, dtype=np.int64)


def _np_values(np: Any, points: Points) -> Any:
    return np.frombuffer(points.values, dtype=np.float64)


def _np_concat(np: Any, arrays: Sequence[memoryview], kind: str) -> Any:
    dtype = np.int64 if kind == "q" else np.float64
    if not arrays:
        return np.empty(0, dtype=dtype)
    return np.concatenate([np.frombuffer(a, dtype=dtype) for a in arrays])


def _pd_times(pd: Any, seconds: Any) -> Any:
    # (Not DatetimeIndex(..., dtype="datetime64[s, UTC]"): pandas 2.0 goes through nanoseconds.)
    return pd.DatetimeIndex(seconds.view("datetime64[s]"), name="time").tz_localize("UTC")


def _np_wide(np: Any, columns: Sequence[tuple[Series, Points]]) -> tuple[Any, list[Any]]:
    """The union of the columns' times (sorted) and each column's values on it (``NaN`` where
    the column has no point)."""
    if not columns:
        return np.empty(0, dtype=np.int64), []
    times = [_np_times(np, points.times) for _, points in columns]
    if all(np.array_equal(each, times[0]) for each in times):
        return times[0], [_np_values(np, points) for _, points in columns]
    # Each column is in increasing time: a stable sort merges the runs (faster than unique's).
    merged = np.sort(np.concatenate(times), kind="stable")
    keep = np.empty(len(merged), dtype=bool)
    keep[:1] = True
    np.not_equal(merged[1:], merged[:-1], out=keep[1:])
    union = merged[keep]
    values = []
    for (_, points), each in zip(columns, times, strict=True):
        column = np.full(len(union), np.nan)
        column[np.searchsorted(union, each)] = _np_values(np, points)
        values.append(column)
    return union, values


# -- polars ------------------------------------------------------------------------------------


def to_polars(data: SeriesInput, *, layout: Layout | None = None) -> polars.DataFrame:
    """One series, or several in ``layout`` (``"long"``, the default, or ``"wide"``), as a polars
    ``DataFrame``; see the module's documentation. Needs ``pip install 'scout-async[polars]'``.

    One series: ``time`` (``Datetime("ms", "UTC")``) and ``value`` (``Float64``, null where
    Scout sent none).

    >>> frame = series.to_polars()
    >>> frame.group_by_dynamic("time", every="1h").agg(polars.col("value").mean())
    """
    pl = _require("polars", "to_polars", "polars", "polars")
    np = _numpy("to_polars", "polars")
    collected = _collect(data, layout, "to_polars")
    frame: polars.DataFrame
    if isinstance(collected, Series):
        frame = pl.DataFrame(
            [
                _pl_times(pl, _np_times(np, collected.points.times)),
                _pl_values(pl, "value", _np_values(np, collected.points)),
            ]
        )
    elif collected.layout == "long":
        frames = [
            _pl_long(pl, s.app_id, s.metric, _np_times(np, s.times), _np_values(np, s.points))
            for s in collected.series
        ]
        empty = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        frame = pl.concat(frames) if frames else _pl_long(pl, 0, "", *empty)
    else:
        columns = _columns(collected.series, "to_polars")
        times, values = _np_wide(np, columns)
        frame = pl.DataFrame(
            [
                _pl_times(pl, times),
                *(
                    _pl_values(pl, _name(series), column)
                    for (series, _), column in zip(columns, values, strict=True)
                ),
            ]
        )
    return frame


def _pl_long(pl: Any, app_id: int, metric: str, times: Any, values: Any) -> Any:
    count = len(times)
    return pl.DataFrame(
        [
            pl.repeat(app_id, count, dtype=pl.Int64, eager=True).alias("app_id"),
            pl.repeat(metric, count, dtype=pl.String, eager=True).alias("metric"),
            _pl_times(pl, times),
            _pl_values(pl, "value", values),
        ]
    )


def _pl_times(pl: Any, seconds: Any) -> Any:
    # polars keeps no seconds: milliseconds (one multiplication, in polars).
    return (
        (pl.Series("time", seconds, dtype=pl.Int64) * 1000)
        .cast(pl.Datetime("ms"))
        .dt.replace_time_zone("UTC")
    )


def _pl_values(pl: Any, name: str, values: Any) -> Any:
    return pl.Series(name, values, dtype=pl.Float64, nan_to_null=True)
