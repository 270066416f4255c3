"""Keeping the API key out of reprs, messages and log lines, in every auth mode.

httpx logs every request's full URL at INFO on the ``httpx`` logger (httpx #2760); with query auth
that URL holds the key, percent-encoded. While a client is open, a filter on the ``httpx`` and
``httpcore`` loggers replaces every open client's key, in each form it can take on the wire, and
any ``key=`` query value, with ``***`` in their records.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from types import TracebackType
from typing import TypeVar
from urllib.parse import quote, quote_plus

__all__ = ["REDACTED", "Secret", "check_api_key", "redacting_logs", "scrub_text"]

REDACTED = "***"

E = TypeVar("E", bound=BaseException)

# ``key=VALUE`` in a URL's query, whatever VALUE is: query auth's parameter, in any encoding.
_QUERY_KEY = re.compile(r"([?&]key=)[^&#\s'\"]*")


def check_api_key(value: str) -> str | None:
    """Why ``value`` cannot be an API key (``None`` if it can), without showing it."""
    if not value.isascii() or not value.isprintable() or any(c.isspace() for c in value):
        return (
            "the API key holds whitespace, control or non-ASCII characters (a trailing newline "
            "from a file?); Scout keys are printable ASCII"
        )
    return None


class Secret:
    """A string that never shows itself: ``repr``/``str`` print ``***``; ``reveal()`` gives it."""

    __slots__ = ("_forms", "_value")

    def __init__(self, value: str) -> None:
        self._value = value
        # Every form the key takes where it could be shown: raw, percent-encoded (query auth, as
        # httpx writes URLs), form-encoded, and escaped inside a bytes repr (h11's errors).
        forms = {value, quote(value, safe=""), quote(value), quote_plus(value)}
        forms.add(repr(value.encode())[2:-1])
        self._forms = tuple(sorted((f for f in forms if f), key=len, reverse=True))

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({REDACTED!r})"

    def __str__(self) -> str:
        return REDACTED

    def scrub(self, text: str) -> str:
        for form in self._forms:
            text = text.replace(form, REDACTED)
        return _QUERY_KEY.sub(rf"\g<1>{REDACTED}", text)

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
    """``text`` with each of ``secrets``, in every form it can take, replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = Secret(secret).scrub(text)
    return text


class _RedactingFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        # Held as ``Secret``s (keyed by identity), so a dump of this object shows no key.
        self.secrets: dict[int, tuple[Secret, int]] = {}
        # Reentrant: a client never closed ends its redaction from the garbage collector, which
        # may run inside another client's ``__enter__``/``__exit__`` on the same thread.
        self.lock = threading.RLock()

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = [secret for secret, _ in list(self.secrets.values())]
        if not secrets:
            return True
        message = record.getMessage()
        scrubbed = message
        for secret in secrets:
            scrubbed = secret.scrub(scrubbed)
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
        self._key = key
        self._open = False

    def __enter__(self) -> redacting_logs:
        with _FILTER.lock:
            _, count = _FILTER.secrets.get(id(self._key), (self._key, 0))
            _FILTER.secrets[id(self._key)] = (self._key, count + 1)
            # After the key is in, and every time (``addFilter`` adds a filter once): an exit
            # nested in this block, by the collector, cannot leave the key without its filter.
            for name in _LOGGERS:
                logging.getLogger(name).addFilter(_FILTER)
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
            _, count = _FILTER.secrets.get(id(self._key), (self._key, 1))
            if count <= 1:
                _FILTER.secrets.pop(id(self._key), None)
            else:
                _FILTER.secrets[id(self._key)] = (self._key, count - 1)
            if not _FILTER.secrets:
                for name in _LOGGERS:
                    logging.getLogger(name).removeFilter(_FILTER)
