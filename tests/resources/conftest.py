"""Helpers of the resource tests: the typed argument errors a ``ValueError``/``TypeError`` stands
for (the ``clock`` and ``client`` fixtures are in ``tests/conftest.py``; a module that needs
another wall time overrides ``clock`` with ``VirtualClock(wall=...)``)."""

from __future__ import annotations

import pytest

import scout_async

#: The error a bad call argument raises, for the builtin it must also be.
ARGUMENT_ERRORS: dict[type[Exception], type[scout_async.ArgumentError]] = {
    ValueError: scout_async.ArgumentError,
    TypeError: scout_async.ArgumentTypeError,
}


def assert_argument_error(info: pytest.ExceptionInfo[Exception], error: type[Exception]) -> None:
    """``info`` holds the typed argument error for ``error`` (``ArgumentTypeError`` for a
    ``TypeError``, ``ArgumentError`` for a ``ValueError``)."""
    assert isinstance(info.value, error)
    assert isinstance(info.value, ARGUMENT_ERRORS[error]), repr(info.value)
