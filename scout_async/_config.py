"""A client's configuration: the arguments of ``ScoutClient`` checked, defaulted and frozen.

Every check runs at construction, before any request: a bad argument is a
``ConfigurationError`` naming the argument, never a failure on the first call.
"""

from __future__ import annotations

import math
import os

import attrs
import httpx

from ._constants import (
    API_KEY_ENV,
    AUTH_MODES,
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
)
from ._exceptions import ConfigurationError
from ._redact import Secret, check_api_key

__all__ = ["HTTP_BACKENDS", "ClientConfig"]

#: ``ScoutClient(http_backend=...)``: ``"auto"`` takes httpx-aiohttp's transport on asyncio when
#: it is installed and httpx's own pools everywhere else; the others choose one of them.
HTTP_BACKENDS = ("auto", "httpx", "aiohttp")


@attrs.frozen
class ClientConfig:
    """What a ``Core`` is built from; ``api_key`` is a ``Secret`` (its repr hides it)."""

    api_key: Secret
    base_url: str
    auth: str
    timeout: httpx.Timeout
    max_retries: int
    max_concurrency: int
    rate_limit: float | None
    http_backend: str = "auto"

    @classmethod
    def from_arguments(
        cls,
        api_key: object,
        *,
        base_url: object,
        auth: object,
        timeout: object,
        max_retries: object,
        max_concurrency: object,
        rate_limit: object,
        http_backend: object = "auto",
    ) -> ClientConfig:
        """Check ``ScoutClient``'s arguments; ``None`` key and URL come from the environment."""
        return cls(
            api_key=_api_key(api_key),
            base_url=_base_url(base_url),
            auth=_auth(auth),
            timeout=_timeout(timeout),
            max_retries=_count("max_retries", max_retries, minimum=0),
            max_concurrency=_count("max_concurrency", max_concurrency, minimum=1),
            rate_limit=_rate_limit(rate_limit),
            http_backend=_http_backend(http_backend),
        )


def _api_key(value: object) -> Secret:
    key = value if value is not None else os.environ.get(API_KEY_ENV)
    if not key:
        raise ConfigurationError(
            f"no API key: pass ScoutClient(api_key=...) or set the {API_KEY_ENV} environment "
            "variable (Scout: organization settings -> API tokens)"
        )
    if not isinstance(key, str):
        raise ConfigurationError(f"api_key must be a string, got {type(key).__name__}")
    problem = check_api_key(key)
    if problem is not None:
        raise ConfigurationError(problem)
    return Secret(key)


def _base_url(value: object) -> str:
    """An absolute http(s) URL with a host and a valid port, without a query, a fragment or
    credentials; parsed now, so a typo is a ``ConfigurationError`` and never a transport error
    on the first request."""
    url = value if value is not None else os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    if not isinstance(url, str):
        raise ConfigurationError(f"base_url must be a str, got {type(url).__name__}")
    shown = _shown_url(url)
    expected = f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL!r}"
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise ConfigurationError(f"{expected}; {shown!r} cannot be parsed") from None
    if parsed.scheme not in ("http", "https"):
        raise ConfigurationError(f"{expected}; got {shown!r}")
    if not parsed.host:
        raise ConfigurationError(f"{expected}; {shown!r} has no host")
    if parsed.port is not None and not 0 < parsed.port <= 65535:
        raise ConfigurationError(f"{expected}; {shown!r} has a port outside 1..65535")
    if "?" in url or "#" in url:
        # Never echo a query: it may be someone's ``?key=``.
        raise ConfigurationError(f"{expected}, without a query or a fragment; got {shown!r}")
    if parsed.userinfo:
        raise ConfigurationError(
            f"{expected}, without credentials (the key goes in api_key=); got {shown!r}"
        )
    return url.rstrip("/")


def _shown_url(url: str) -> str:
    """``url`` as it may be shown: no query, no fragment, no credentials."""
    shown = url.split("?", 1)[0].split("#", 1)[0]
    scheme, sep, rest = shown.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        shown = f"{scheme}://***@{rest.split('@', 1)[1]}"
    return shown + ("?..." if "?" in url else "")


def _auth(value: object) -> str:
    if value not in AUTH_MODES:
        raise ConfigurationError(f"auth must be 'header', 'query' or 'body'; got {value!r}")
    return str(value)


def _http_backend(value: object) -> str:
    # Whether httpx-aiohttp is installed, and which async library runs, is the core's to find
    # out (the latter only once a request is made): here only the word is checked.
    if value not in HTTP_BACKENDS:
        raise ConfigurationError(
            f"http_backend must be 'auto', 'httpx' or 'aiohttp'; got {value!r}"
        )
    return str(value)


def _count(name: str, value: object, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigurationError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def _rate_limit(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise ConfigurationError(
            f"rate_limit must be requests per second > 0, or None; got {value!r}"
        )
    return float(value)


def _timeout(value: object) -> httpx.Timeout:
    if isinstance(value, bool) or not isinstance(value, (int, float, httpx.Timeout)):
        raise ConfigurationError(f"timeout must be seconds or an httpx.Timeout, got {value!r}")
    if isinstance(value, httpx.Timeout):
        for part, seconds in value.as_dict().items():
            # None is httpx's "no limit"; anything else must be a finite number of seconds > 0.
            if seconds is not None and not (
                isinstance(seconds, (int, float)) and 0 < seconds < math.inf
            ):
                raise ConfigurationError(
                    f"timeout: its {part} must be seconds > 0 (or None for no limit), "
                    f"got {seconds!r}"
                )
        return value
    if not 0 < value < math.inf:  # also refuses NaN
        raise ConfigurationError(f"timeout must be a finite number of seconds > 0, got {value!r}")
    return httpx.Timeout(float(value))
