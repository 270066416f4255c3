"""Argument checks shared by resources: a clear, typed error before any request is sent."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

__all__ = ["check_id", "check_name", "path_segment"]


def check_id(value: object, name: str = "app_id") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value}")
    return value


def check_name(value: object, valid: Iterable[str], what: str) -> str:
    options = tuple(valid)
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"unknown {what} {value!r}; use one of: {', '.join(options)}")
    return value


def path_segment(value: str) -> str:
    """``value`` percent-encoded as one path segment (``/``, ``+`` and ``=`` included)."""
    return quote(value, safe="")
