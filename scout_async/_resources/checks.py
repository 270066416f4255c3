"""Checks of the non-time arguments of the API calls: ids, names, counts, filters.

Each raises a clear ``TypeError``/``ValueError`` before any request.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

from .._exceptions import ArgumentError, ArgumentTypeError

__all__ = [
    "MAX_ID",
    "check_count",
    "check_flag",
    "check_id",
    "check_string_id",
    "check_name",
    "check_optional_name",
    "check_text",
    "path_segment",
]


def check_string_id(value: object, name: str) -> str:
    """A string id such as an endpoint or job id (base64: ``+``, ``/`` and ``=`` are fine)."""
    if not isinstance(value, str):
        raise ArgumentTypeError(
            f"{name} must be a str (e.g. Endpoint.id or Job.id), got {type(value).__name__} "
            f"{value!r}"
        )
    if not value or value != value.strip():
        raise ArgumentError(
            f"{name} must be a non-empty id without surrounding spaces, got {value!r}"
        )
    return value


def check_text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise ArgumentTypeError(f"{name} must be a str, got {type(value).__name__} {value!r}")
    if not value.strip():
        raise ArgumentError(f"{name} must not be empty")
    return value


def check_count(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentTypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ArgumentError(f"{name} must be an int >= {minimum}, got {value}")
    return value


def check_optional_name(value: object, valid: Iterable[str], what: str) -> str | None:
    return None if value is None else check_name(value, valid, what)


def check_flag(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise ArgumentTypeError(f"{name} must be a bool, got {type(value).__name__} {value!r}")
    return value


#: The largest id Scout can hold: its ids are database integers, 64-bit signed at most.
MAX_ID = 2**63 - 1


def check_id(value: object, name: str = "app_id") -> int:
    """A numeric id (app, trace, error group, anomaly event): an int in ``1..MAX_ID``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentTypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value <= 0:
        raise ArgumentError(f"{name} must be a positive int, got {value}")
    if value > MAX_ID:
        raise ArgumentError(f"{name} must be at most {MAX_ID} (2**63 - 1), got {value}")
    return value


def check_name(value: object, valid: Iterable[str], what: str) -> str:
    options = tuple(valid)
    if not isinstance(value, str) or value not in options:
        raise ArgumentError(f"unknown {what} {value!r}; use one of: {', '.join(options)}")
    return value


def path_segment(value: str) -> str:
    """``value`` percent-encoded as one path segment (``/``, ``+`` and ``=`` included)."""
    return quote(value, safe="")
