"""The exception tree of scout_async.

    ScoutError
    ├── APIStatusError            the server answered with an error status (HTTP or envelope)
    │   ├── AuthenticationError   401, 403 (Scout answers a wrong key with 403)
    │   ├── NotFoundError         404
    │   ├── InvalidRequestError   400, 422
    │   ├── RateLimitError        429, carries ``retry_after``
    │   └── ServerError           5xx (and 408)
    ├── APIConnectionError        the request never got an answer
    │   └── APITimeoutError       ... because it timed out
    ├── ConfigurationError        bad client settings (also a ValueError), before any request
    ├── ArgumentError             a bad argument to a call (also a ValueError), before any request
    │   └── ArgumentTypeError     ... of the wrong type (also a TypeError)
    ├── ResponseFormatError       non-JSON, missing envelope, unexpected shape
    ├── StepMismatchError         a series came back at another step than the plan asked for
    ├── CheckpointMismatchError   a backfill checkpoint (or its output) is not the plan's own
    └── SinkError                 the output failed: a database unreachable, a login refused, a
                                  connection lost (never showing its password)

Every message names the method and the path, never a header, a URL query or the API key.
Errors raised by a streamed series carry ``resume_from``: the series is complete up to it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ._time import display_time

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "ArgumentError",
    "ArgumentTypeError",
    "AuthenticationError",
    "CheckpointMismatchError",
    "ConfigurationError",
    "InvalidRequestError",
    "NotFoundError",
    "RateLimitError",
    "ResponseFormatError",
    "ScoutError",
    "ServerError",
    "SinkError",
    "StepMismatchError",
]


class ScoutError(Exception):
    """Root of every error scout_async raises on purpose.

    ``method`` and ``path`` name the request (the path never includes the query string).
    ``resume_from`` is set on errors that interrupt a streamed series: every point before it was
    delivered, and a new call starting there continues the series.
    """

    def __init__(self, message: str, *, method: str | None = None, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.resume_from: datetime | None = None

    def __str__(self) -> str:
        where = f"{self.method} {self.path}: " if self.method and self.path else ""
        resume = ""
        if self.resume_from is not None:
            resume = f" (series complete before {display_time(self.resume_from)}; resume there)"
        return f"{where}{self.message}{resume}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class APIStatusError(ScoutError):
    """The server answered, with an error status in the HTTP status line or in the envelope.

    ``retry_after`` is the server's ``Retry-After`` in seconds, if it sent one.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        method: str | None = None,
        path: str | None = None,
        server_message: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path)
        self.status_code = status_code
        self.server_message = server_message
        self.retry_after = retry_after


class AuthenticationError(APIStatusError):
    """401 or 403: the API key is missing, wrong or lacks access (Scout says 403)."""


class NotFoundError(APIStatusError):
    """404: no such app, metric, endpoint, job, trace, ..."""


class InvalidRequestError(APIStatusError):
    """400 or 422: the server refused the parameters (Scout: "Invalid timeframe parameters")."""


class RateLimitError(APIStatusError):
    """429, after the retries ran out; ``retry_after`` is the server's wait in seconds, if given."""


class ServerError(APIStatusError):
    """5xx (or 408) after the retries ran out."""


class APIConnectionError(ScoutError):
    """The request got no answer: connection refused, reset or dropped mid-response."""


class APITimeoutError(APIConnectionError):
    """The request timed out (connect, read, write or pool)."""


class ResponseFormatError(ScoutError):
    """The answer was not what Scout sends: not JSON, no envelope, or results of another shape."""


class StepMismatchError(ScoutError):
    """A series came back at another step than the one planned; never mixed in silently."""

    def __init__(
        self,
        message: str,
        *,
        expected: timedelta,
        actual: timedelta | None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path)
        self.expected = expected
        self.actual = actual


class ConfigurationError(ScoutError, ValueError):
    """The client was set up wrong (no API key, a bad base URL, auth mode or limit); raised at
    construction, before any request."""


class ArgumentError(ScoutError, ValueError):
    """A call got an argument it cannot send (an unknown metric, a naive datetime, an empty
    window, a window past a lookback limit, ...); raised before any request. Also a
    ``ValueError``, so ``except ValueError`` keeps working."""


class ArgumentTypeError(ArgumentError, TypeError):
    """A call got an argument of the wrong type (a ``str`` app id, a date for a datetime);
    raised before any request. Also a ``TypeError``."""


class CheckpointMismatchError(ScoutError):
    """A backfill checkpoint belongs to another plan (apps, metrics, window, step, sink), is not a
    checkpoint at all, or its output no longer matches it; raised before any data is fetched.

    Resuming with it would skip or repeat points, so the job refuses: pass the original arguments,
    or delete the checkpoint (and the output) to start over. ``checkpoint_path`` names the file.

    >>> try:
    ...     await client.backfill(..., sink="points.db", checkpoint="state.json")
    ... except CheckpointMismatchError as error:
    ...     print(error)  # says which part of the plan differs
    """

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.checkpoint_path = path


class SinkError(ScoutError):
    """The output of a backfill or an archive failed: its database could not be reached, refused
    the login, or dropped the connection. The message names the database without its password.

    What was committed with the last checkpoint stays; running the job again resumes from there.
    """
