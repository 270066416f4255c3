"""The one cattrs converter that turns Scout's JSON into models, made in a factory.

Unknown fields are ignored (new server fields never break users); times become aware UTC
datetimes; a series point arrives as ``["2026-02-12T19:15:00Z", 76.51]`` (quirk 1 of the API).
The API models listed in ``API_MODELS`` (an explicit registry: where a class is defined never
changes how it is parsed) get one hook factory (``_api_model_hook``): a null where a list or
dict is expected reads as empty, plus the few renames and reshapings listed in ``_API_PREP``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

from .._time import format_time, parse_time
from . import _models
from ._models import Point

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


def _flat_spans(raw: Any) -> Any:
    """A trace's spans as one flat list, depth first, in the order sent.

    Scout's own CLI reads spans nested (``children``); the spec only says "objects". A nested
    span's parent is the span it is nested in. ``name``/``desc`` are read as
    ``operation``/``description`` when those are absent.
    """
    if not isinstance(raw, list):
        return raw
    flat: list[Any] = []
    stack: list[tuple[Any, Any]] = [(item, None) for item in reversed(raw)]
    while stack:
        item, parent_id = stack.pop()
        if not isinstance(item, dict):
            flat.append(item)  # not a span: the structuring reports it
            continue
        span = {key: value for key, value in item.items() if key != "children"}
        if parent_id is not None:
            span["parent_id"] = parent_id
        if span.get("operation") is None and "name" in span:
            span["operation"] = span["name"]
        if span.get("description") is None and "desc" in span:
            span["description"] = span["desc"]
        flat.append(span)
        children = item.get("children")
        if isinstance(children, list):
            stack.extend((child, span.get("id")) for child in reversed(children))
    return flat


def _prep_trace(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "spans": _flat_spans(data["spans"])} if "spans" in data else data


_INSIGHT_NAMES = frozenset(a.name for a in attrs.fields(_models.Insight))


def _prep_insight(data: dict[str, Any]) -> dict[str, Any]:
    if isinstance(data.get("fields"), dict):
        return data
    # Current insights send their facts at the top level: keep whatever is not modelled.
    return {**data, "fields": {k: v for k, v in data.items() if k not in _INSIGHT_NAMES}}


def _prep_usage(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "raw": data}


_API_PREP: dict[type, Callable[[dict[str, Any]], dict[str, Any]]] = {
    _models.Trace: _prep_trace,
    _models.Insight: _prep_insight,
    _models.Usage: _prep_usage,
}
_API_RENAMES: dict[type, dict[str, str]] = {
    _models.Endpoint: {"p95": "95th_percentile"},
}


# Every API model that the tolerant hook below structures.
API_MODELS: frozenset[type] = frozenset(
    {
        _models.AnomalyDeploy,
        _models.AnomalyEvent,
        _models.AnomalySmartMonitor,
        _models.ApmUsage,
        _models.BillingPeriod,
        _models.Endpoint,
        _models.ErrorGroup,
        _models.ErrorOccurrence,
        _models.ErrorUsage,
        _models.Insight,
        _models.InsightGroup,
        _models.InsightsOverview,
        _models.InsightTimeframe,
        _models.Job,
        _models.JobTrace,
        _models.LogUsage,
        _models.NodeUsage,
        _models.Span,
        _models.Trace,
        _models.TraceSummary,
        _models.Usage,
    }
)


def _is_api_model(cls: Any) -> bool:
    return cls in API_MODELS


def _api_model_hook(cls: Any, conv: cattrs.Converter) -> Callable[[Any, type], Any]:
    renames: dict[str, Any] = {
        name: override(rename=key) for name, key in _API_RENAMES.get(cls, {}).items()
    }
    base = make_dict_structure_fn(cls, conv, **renames)
    # A null where the model keeps a list or dict (a factory default) reads as empty.
    defaulted = {
        a.alias or a.name
        for a in attrs.fields(cls)
        if a.init and isinstance(a.default, attrs.Factory)  # type: ignore[arg-type]
    }
    prep = _API_PREP.get(cls)

    def structure_model(value: Any, _: type) -> Any:
        if not isinstance(value, dict):
            raise TypeError(f"expected an object, got {type(value).__name__}")
        data = {k: v for k, v in value.items() if not (v is None and k in defaulted)}
        return base(prep(data) if prep else data, cls)

    return structure_model


def make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=False)
    conv.register_structure_hook(datetime, _structure_datetime)
    conv.register_structure_hook(Point, _structure_point)
    conv.register_structure_hook_factory(_is_api_model, lambda cls: _api_model_hook(cls, conv))
    conv.register_unstructure_hook(datetime, format_time)
    return conv


converter = make_converter()


def structure(data: Any, cls: type[T]) -> T:
    return converter.structure(data, cls)
