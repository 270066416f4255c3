"""Keeping the API key out of reprs, messages and log lines, in every auth mode.

httpx logs every request's full URL at INFO on the ``httpx`` logger (httpx #2760); with query auth
that URL holds the key. While a client is open, a filter on the ``httpx`` and ``httpcore`` loggers
replaces every open client's key with ``***`` in their records.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import Counter
from types import TracebackType
from typing import TypeVar

__all__ = ["REDACTED", "Secret", "redacting_logs", "scrub_text"]

REDACTED = "***"

E = TypeVar("E", bound=BaseException)


class Secret:
    """A string that never shows itself: ``repr``/``str`` print ``***``; ``reveal()`` gives it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({REDACTED!r})"

    def __str__(self) -> str:
        return REDACTED

    def scrub(self, text: str) -> str:
        return scrub_text(text, (self._value,))

    def scrub_exception(self, exc: E) -> E:
        """Remove the key from ``exc`` and its chain of causes, in place; returns ``exc``."""
        seen: set[int] = set()
        current: BaseException | None = exc
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            current.args = tuple(
                self.scrub(arg) if isinstance(arg, str) else arg for arg in current.args
            )
            for attr in ("message", "server_message"):
                value = getattr(current, attr, None)
                if isinstance(value, str):
                    with contextlib.suppress(AttributeError):
                        setattr(current, attr, self.scrub(value))
            current = current.__cause__ or current.__context__
        return exc


def scrub_text(text: str, secrets: tuple[str, ...] | list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


class _RedactingFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.secrets: Counter[str] = Counter()
        self.lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = [s for s in self.secrets if s]
        if not secrets:
            return True
        message = record.getMessage()
        scrubbed = scrub_text(message, secrets)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


_FILTER = _RedactingFilter()
# Logger filters do not see records propagated from child loggers: name every one that logs.
_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


class redacting_logs:
    """While open, ``key`` shows as ``***`` in the records of httpx's and httpcore's loggers."""

    def __init__(self, key: Secret) -> None:
        self._value = key.reveal()
        self._open = False

    def __enter__(self) -> redacting_logs:
        with _FILTER.lock:
            if not any(_FILTER.secrets.values()):
                for name in _LOGGERS:
                    logging.getLogger(name).addFilter(_FILTER)
            _FILTER.secrets[self._value] += 1
        self._open = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._open:
            return
        self._open = False
        with _FILTER.lock:
            _FILTER.secrets[self._value] -= 1
            if _FILTER.secrets[self._value] <= 0:
                del _FILTER.secrets[self._value]
            if not _FILTER.secrets:
                for name in _LOGGERS:
                    logging.getLogger(name).removeFilter(_FILTER)
