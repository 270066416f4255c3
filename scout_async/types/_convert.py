"""The cattrs converters that turn Scout's JSON into models, made in one factory.

Unknown fields are ignored (new server fields never break users); times become aware UTC
datetimes; a series point arrives as ``["2026-02-12T19:15:00Z", 76.51]`` (quirk 1 of the API).
The API models listed in ``API_MODELS`` (an explicit registry: where a class is defined never
changes how it is parsed) get one hook factory (``_api_model_hook``), which adds:

- a null where a list or dict is expected reads as empty;
- an empty string where a value other than text is expected (``last_reported_at: ""``, which
  Scout sends for an app that has not reported) reads as ``None``, with a warning logged once
  per field;
- the few renames and reshapings listed in ``_API_RENAMES`` and ``_API_PREP`` (Scout's span
  ``duration_ms`` holds seconds, so it becomes ``Span.duration_s``; an error group's
  ``errors_count`` of 0 is unknown, so it becomes ``None``).

Two converters come out of the factory. ``converter`` is strict: a value it cannot read fails
the record (``parse`` of one record). ``lenient_converter`` reads a listing: an optional field
whose value it cannot read becomes ``None`` (an empty list or dict for a container) and a
warning is logged once per field, so one odd value never costs the whole listing; a required
field it cannot read (an id) still fails.
"""

from __future__ import annotations

import logging
import types
import typing
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

from .._constants import LOGGER_NAME
from .._time import format_time, parse_time
from . import _models
from ._models import Point

__all__ = [
    "API_MODELS",
    "converter",
    "lenient_converter",
    "make_converter",
    "reset_warnings",
    "structure",
]

T = TypeVar("T")

logger = logging.getLogger(LOGGER_NAME)


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


def _prep_error_group(data: dict[str, Any]) -> dict[str, Any]:
    # Scout's detail answer says 0 for every group (its CLI hides that figure); a group exists
    # only because errors happened, so 0 is never the count: leave it unknown.
    count = data.get("errors_count")
    if count == 0 and not isinstance(count, bool):
        return {key: value for key, value in data.items() if key != "errors_count"}
    return data


_API_PREP: dict[type, Callable[[dict[str, Any]], dict[str, Any]]] = {
    _models.ErrorGroup: _prep_error_group,
    _models.Trace: _prep_trace,
    _models.Insight: _prep_insight,
    _models.Usage: _prep_usage,
}
# model field -> Scout's key, where they differ.
_API_RENAMES: dict[type, dict[str, str]] = {
    _models.Endpoint: {"p95": "95th_percentile"},
    # Seconds, despite the key names (Scout's CLI, changelog.d/26.md).
    _models.Span: {"duration_s": "duration_ms", "exclusive_duration_s": "exclusive_duration_ms"},
}


# Every API model that the tolerant hook below structures.
API_MODELS: frozenset[type] = frozenset(
    {
        _models.AnomalyDeploy,
        _models.AnomalyEvent,
        _models.AnomalySmartMonitor,
        _models.ApmUsage,
        _models.App,
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


# (model, field) pairs already warned about: an odd value is worth one line, not one per record.
_warned: set[tuple[str, str]] = set()


def reset_warnings() -> None:
    """Forget which fields were warned about (tests use it to see the next warning)."""
    _warned.clear()


def _warn_once(cls: type, key: str, value: Any, reason: str) -> None:
    if (cls.__name__, key) in _warned:
        return
    _warned.add((cls.__name__, key))
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    logger.warning(
        "Scout sent %s.%s = %s, %s; read as empty (this field is not reported again)",
        cls.__name__,
        key,
        shown,
        reason,
    )


def _takes_text(kind: Any) -> bool:
    """Whether a field of type ``kind`` may hold a string (``str``, ``Any``, a union with one)."""
    if kind is str or kind is Any:
        return True
    return any(_takes_text(arg) for arg in typing.get_args(kind)) if _is_union(kind) else False


def _is_union(kind: Any) -> bool:
    return typing.get_origin(kind) in (typing.Union, types.UnionType)


@attrs.frozen
class _Field:
    key: str  # Scout's key
    kind: Any
    optional: bool  # defaults to None or to an empty container

    @property
    def is_list(self) -> bool:
        return typing.get_origin(self.kind) is list


def _check_lists(cls: type, lists: list[_Field], data: dict[str, Any]) -> None:
    """A list field must hold a list: cattrs would read a string as a list of its letters."""
    for field in lists:
        value = data.get(field.key)
        if value is not None and not isinstance(value, (list, tuple)):
            raise TypeError(
                f"{cls.__name__}.{field.key}: expected a list, got {type(value).__name__} "
                f"{value!r:.40}"
            )


def _read(conv: cattrs.Converter, field: _Field, value: Any) -> None:
    """Raise if ``value`` does not read as ``field``'s type."""
    if field.is_list and not isinstance(value, (list, tuple)):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    conv.structure(value, field.kind)


def _fields(cls: type) -> list[_Field]:
    attrs.resolve_types(cls)
    renames = _API_RENAMES.get(cls, {})
    return [
        _Field(
            key=renames.get(a.name, a.alias or a.name),
            kind=a.type,
            optional=a.default is None or isinstance(a.default, attrs.Factory),  # type: ignore[arg-type]
        )
        for a in attrs.fields(cls)
        if a.init
    ]


def _api_model_hook(
    cls: Any, conv: cattrs.Converter, *, lenient: bool
) -> Callable[[Any, type], Any]:
    renames: dict[str, Any] = {
        name: override(rename=key) for name, key in _API_RENAMES.get(cls, {}).items()
    }
    base = make_dict_structure_fn(cls, conv, **renames)
    fields = _fields(cls)
    # A null where the model keeps a list or dict (a factory default) reads as empty.
    defaulted = {
        a.alias or a.name
        for a in attrs.fields(cls)
        if a.init and isinstance(a.default, attrs.Factory)  # type: ignore[arg-type]
    }
    # An empty string where the model wants something other than text reads as None.
    blankable = {f.key for f in fields if f.optional and not _takes_text(f.kind)}
    optional = [f for f in fields if f.optional]
    lists = [f for f in fields if f.is_list]
    prep = _API_PREP.get(cls)

    def structure_model(value: Any, _: type) -> Any:
        if not isinstance(value, dict):
            raise TypeError(f"expected an object, got {type(value).__name__}")
        data = {k: v for k, v in value.items() if not (v is None and k in defaulted)}
        for key in blankable:
            if data.get(key) == "":
                _warn_once(cls, key, "", "empty where a value belongs")
                del data[key]
        if prep is not None:
            data = prep(data)
        if not lenient:
            _check_lists(cls, lists, data)
            return base(data, cls)
        try:
            _check_lists(cls, lists, data)
            return base(data, cls)
        except Exception:
            repaired = _without_unreadable(cls, conv, optional, data)
            if repaired is None:
                raise
            return base(repaired, cls)

    return structure_model


def _without_unreadable(
    cls: type, conv: cattrs.Converter, optional: list[_Field], data: dict[str, Any]
) -> dict[str, Any] | None:
    """``data`` without the optional fields whose values do not read, each warned about once;
    ``None`` if every optional field reads (the fault is in a required one)."""
    bad = []
    for field in optional:
        if field.key not in data:
            continue
        try:
            _read(conv, field, data[field.key])
        except Exception:
            bad.append(field.key)
            _warn_once(cls, field.key, data[field.key], "which does not read")
    if not bad:
        return None
    return {key: value for key, value in data.items() if key not in bad}


def make_converter(*, lenient: bool = False) -> cattrs.Converter:
    """A converter for Scout's JSON; ``lenient`` reads unreadable optional fields as empty."""
    conv = cattrs.Converter(forbid_extra_keys=False)
    conv.register_structure_hook(datetime, _structure_datetime)
    conv.register_structure_hook(Point, _structure_point)
    conv.register_structure_hook_factory(
        _is_api_model, lambda cls: _api_model_hook(cls, conv, lenient=lenient)
    )
    conv.register_unstructure_hook(datetime, format_time)
    return conv


converter = make_converter()
lenient_converter = make_converter(lenient=True)


def structure(data: Any, cls: type[T], *, lenient: bool = False) -> T:
    """``data`` as a ``cls``; ``lenient`` for a record of a listing (see the module docstring)."""
    return (lenient_converter if lenient else converter).structure(data, cls)
