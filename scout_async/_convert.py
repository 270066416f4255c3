"""The one cattrs converter that turns Scout's JSON into models, made in a factory.

Unknown fields are ignored (new server fields never break users); times become aware UTC
datetimes; a series point arrives as ``["2026-02-12T19:15:00Z", 76.51]`` (quirk 1 of the API).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

import cattrs

from ._models import Point
from ._time import parse_time

__all__ = ["converter", "make_converter", "structure"]

T = TypeVar("T")


def _structure_datetime(value: Any, _: type) -> datetime:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 string, got {value!r}")
    return parse_time(value)


def _structure_point(value: Any, _: type) -> Point:
    if isinstance(value, dict):  # the shape the OpenAPI spec claims, accepted too
        raw_time, raw_value = value.get("timestamp"), value.get("value")
    elif isinstance(value, (list, tuple)) and len(value) == 2:
        raw_time, raw_value = value
    else:
        raise TypeError(f"expected [time, value], got {value!r}")
    if raw_value is not None and (
        isinstance(raw_value, bool) or not isinstance(raw_value, (int, float))
    ):
        raise TypeError(f"expected a number or null, got {raw_value!r}")
    return Point(
        time=_structure_datetime(raw_time, datetime),
        value=None if raw_value is None else float(raw_value),
    )


def make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=False)
    conv.register_structure_hook(datetime, _structure_datetime)
    conv.register_structure_hook(Point, _structure_point)
    conv.register_unstructure_hook(datetime, lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return conv


converter = make_converter()


def structure(data: Any, cls: type[T]) -> T:
    return converter.structure(data, cls)
