"""Bad input to the converters: a typed error naming the call, before anything is built."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from scout_async import ArgumentError, ArgumentTypeError, Point, Series, frames

from ._data import T0, series

CONVERTERS: list[Callable[..., Any]] = [frames.to_arrow, frames.to_pandas, frames.to_polars]
NAMES = [c.__name__ for c in CONVERTERS]


@pytest.mark.parametrize("convert", CONVERTERS, ids=NAMES)
@pytest.mark.parametrize(
    ("data", "shown"),
    [
        (None, "NoneType"),
        (42, "int"),
        ("101/throughput", "str"),
        (b"raw", "bytes"),
    ],
)
def test_something_else_than_series_is_a_type_error(
    convert: Callable[..., Any], data: object, shown: str
) -> None:
    with pytest.raises(ArgumentTypeError) as caught:
        convert(data)
    assert str(caught.value) == (
        f"{convert.__name__} takes a Series or an iterable of Series, got {shown}"
    )


@pytest.mark.parametrize("convert", CONVERTERS, ids=NAMES)
def test_bare_points_point_to_the_arrays_function(convert: Callable[..., Any]) -> None:
    points = series([1.0]).points
    for data in (points, points[0]):
        with pytest.raises(ArgumentTypeError, match=r"use scout_async\.frames\.points_to_arrow"):
            convert(data)


@pytest.mark.parametrize("convert", CONVERTERS, ids=NAMES)
def test_an_item_that_is_not_a_series_is_named_before_any_work(
    convert: Callable[..., Any],
) -> None:
    built: list[Series] = []

    def items() -> Iterator[object]:
        for s in (series([1.0]), series([2.0], metric="apdex")):
            built.append(s)
            yield s
        yield Point(T0, 1.0)

    with pytest.raises(ArgumentTypeError) as caught:
        convert(items())
    assert str(caught.value) == (
        f"{convert.__name__} takes a Series or an iterable of Series; item 2 is a Point"
    )
    assert len(built) == 2


@pytest.mark.parametrize("convert", CONVERTERS, ids=NAMES)
def test_an_unknown_layout_is_refused(convert: Callable[..., Any]) -> None:
    one = series([1.0])
    with pytest.raises(ArgumentError) as caught:
        convert([one], layout="tall")
    assert str(caught.value) == (f"{convert.__name__}: layout must be 'long' or 'wide', got 'tall'")
    with pytest.raises(ArgumentError, match="got 'LONG'"):
        convert(one, layout="LONG")
    with pytest.raises(ArgumentTypeError, match="layout must be 'long' or 'wide', got int"):
        convert([one], layout=1)


def test_the_layout_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        frames.to_arrow([series([1.0])], "wide")  # type: ignore[call-arg]


def test_points_to_arrow_arrays_wants_points() -> None:
    with pytest.raises(ArgumentTypeError, match="takes a sequence of Point, got int"):
        frames.points_to_arrow_arrays(3)  # type: ignore[arg-type]
    with pytest.raises(ArgumentTypeError, match="got str"):
        frames.points_to_arrow_arrays("points")  # type: ignore[arg-type]


def test_points_to_arrow_arrays_names_a_bad_point() -> None:
    with pytest.raises(ArgumentTypeError) as caught:
        frames.points_to_arrow_arrays([Point(T0, 1.0), (T0, 2.0)])  # type: ignore[list-item]
    assert (
        str(caught.value) == "points_to_arrow_arrays takes a sequence of Point; item 1 is a tuple"
    )
    naive = Point(T0.replace(tzinfo=None), 1.0)
    with pytest.raises(ArgumentError, match="must be timezone-aware"):
        frames.points_to_arrow_arrays([naive])
