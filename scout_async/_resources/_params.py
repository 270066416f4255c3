"""Checks of the non-time arguments of the API calls: string ids, counts, optional filters.

Like ``_validate``, each raises a clear ``TypeError``/``ValueError`` before any request.
"""

from __future__ import annotations

from collections.abc import Iterable

from ._validate import check_name

__all__ = ["check_count", "check_flag", "check_key", "check_optional_name", "check_text"]


def check_key(value: object, name: str) -> str:
    """A string id such as an endpoint or job id (base64: ``+``, ``/`` and ``=`` are fine)."""
    if not isinstance(value, str):
        raise TypeError(
            f"{name} must be a str (e.g. Endpoint.id or Job.id), got {type(value).__name__} "
            f"{value!r}"
        )
    if not value or value != value.strip():
        raise ValueError(f"{name} must be a non-empty id without surrounding spaces, got {value!r}")
    return value


def check_text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__} {value!r}")
    if not value.strip():
        raise ValueError(f"{name} must not be empty")
    return value


def check_count(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value}")
    return value


def check_optional_name(value: object, valid: Iterable[str], what: str) -> str | None:
    return None if value is None else check_name(value, valid, what)


def check_flag(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__} {value!r}")
    return value
