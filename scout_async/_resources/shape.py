"""Reading ``results`` into models, with a ``ResponseFormatError`` for any other shape.

One record (``parse``) is read strictly. The records of a listing (``parse_list``) are read
leniently: an optional field whose value does not read becomes empty, with a warning logged once
per field, so one odd value never costs the whole listing (``types._convert``).
"""

from __future__ import annotations

from typing import Any, TypeVar

from .._exceptions import ResponseFormatError

__all__ = ["field", "parse", "parse_list"]

T = TypeVar("T")


def field(results: Any, name: str, kind: type[T], path: str) -> T:
    """``results[name]``, which must be a ``kind``."""
    value = results.get(name) if isinstance(results, dict) else None
    if not isinstance(value, kind):
        raise ResponseFormatError(
            f"expected results.{name} to be a {kind.__name__}", method="GET", path=path
        )
    return value


def parse(item: Any, cls: type[T], path: str, *, lenient: bool = False) -> T:
    # Imported on first use: the converters and cattrs, ~20 ms, which a series never needs.
    from ..types._convert import structure

    try:
        return structure(item, cls, lenient=lenient)
    except Exception as exc:
        raise ResponseFormatError(
            f"a {cls.__name__} in the answer is malformed: {_reason(exc)}", method="GET", path=path
        ) from exc


def parse_list(items: Any, cls: type[T], path: str) -> list[T]:
    if not isinstance(items, list):
        raise ResponseFormatError(
            f"expected a list of {cls.__name__}, got {type(items).__name__}",
            method="GET",
            path=path,
        )
    return [parse(item, cls, path, lenient=True) for item in items]


def _reason(exc: BaseException) -> str:
    subs = getattr(exc, "exceptions", None)
    if subs:
        return "; ".join(_reason(sub) for sub in subs)
    note = "; ".join(getattr(exc, "__notes__", []) or [])
    return f"{exc} ({note})" if note else str(exc)
