"""The ``scout-async`` command group: global options, logging, and turning errors into one line.

Exit codes: 0 done, 1 the API or the file system failed, 2 a usage error (bad option, missing
key, an empty window, an argument the library refuses: ``ArgumentError``). No traceback for
either: a user mistake or an API error is one ``error: ...`` line on stderr, with the API key
scrubbed. Anything else (a plain ``ValueError`` among them) is a bug, shown with its traceback.

Run from Python, ``main(args, obj=clock)`` (or ``CliRunner().invoke(main, args, obj=clock)``)
runs the command on ``clock``, a ``scout_async.Clock``: "now" for ``--from 30d``, and the clock of
every client it makes. Tests use it for virtual time.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import Any

import click

from .._clock import Clock, SystemClock
from .._constants import (
    API_KEY_ENV,
    AUTH_MODES,
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    LOGGER_NAME,
)
from .._exceptions import (
    APIConnectionError,
    APITimeoutError,
    ArgumentError,
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    ScoutError,
)
from .._redact import REDACTED
from .._version import __version__
from .commands import (
    anomalies,
    apps,
    archive,
    backfill,
    demo,
    endpoints,
    errors,
    fetch,
    insights,
    jobs,
    metrics,
    traces,
    usage,
)
from .context import CliError, CliUsageError, Settings, scrub

__all__ = ["main"]


def _usage_error(exc: click.UsageError, secret: str | None) -> CliError:
    hint = ""
    if exc.ctx is not None:
        hint = f" (see '{exc.ctx.command_path} --help')"
    return CliUsageError(scrub(exc.format_message(), secret) + hint)


def _describe(exc: ScoutError) -> str:
    if isinstance(exc, AuthenticationError):
        said = f"{exc.status_code} {exc.server_message or ''}".strip()
        return (
            f"the server refused the API key ({exc.method} {exc.path}: {said}); "
            f"check --api-key or {API_KEY_ENV}"
        )
    if isinstance(exc, APITimeoutError):
        return f"{exc}; a longer --timeout may help"
    if isinstance(exc, APIConnectionError):
        return f"{exc}; check --url or {BASE_URL_ENV}"
    if isinstance(exc, NotFoundError):
        return f"{exc}; see `scout-async apps` for the app ids"
    return str(exc)


def _file_error(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"


def _out_of_range(exc: ArithmeticError) -> str:
    said = str(exc) or type(exc).__name__
    return (
        f"a time or duration is out of range ({said}): use times within the years 1 to 9999 "
        "and shorter durations"
    )


def _quiet_broken_pipe() -> None:
    # The reader went away (`| head`): stop quietly, and keep the interpreter's final flush of
    # stdout from failing again.
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


# click >= 8.2 shows the help for a bare `scout-async` through this UsageError: let it through.
_HELP_ERRORS: tuple[type[Exception], ...] = tuple(
    error
    for error in (getattr(click.exceptions, "NoArgsIsHelpError", None),)
    if isinstance(error, type)
)


class ScoutGroup(click.Group):
    """A group whose errors are one line each (see the module docstring)."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except _HELP_ERRORS:
            raise
        except click.UsageError as exc:
            raise _usage_error(exc, os.environ.get(API_KEY_ENV)) from None

    def invoke(self, ctx: click.Context) -> Any:
        secret = ctx.params.get("api_key")
        try:
            return super().invoke(ctx)
        except Exception as exc:
            error = _sole_error(exc)
            if isinstance(error, BrokenPipeError):
                _quiet_broken_pipe()
                ctx.exit(1)
            shown = _one_line(error, secret)
            if shown is None or shown is exc:
                raise
            raise shown from None


def _sole_error(exc: Exception) -> Exception:
    """The one error inside ``exc`` if it is an exception group (nested or not) of just one, as a
    task group raises; else ``exc``."""
    while any(kind.__name__ == "BaseExceptionGroup" for kind in type(exc).__mro__):
        inner: tuple[object, ...] = getattr(exc, "exceptions", ())
        if len(inner) != 1 or not isinstance(inner[0], Exception):
            break
        exc = inner[0]
    return exc


def _one_line(error: Exception, secret: str | None) -> Exception | None:
    """What ``error`` is shown as: a ``CliError`` (one line), a click exception as it is, or
    ``None`` for a bug, let through with its traceback."""
    if isinstance(error, _HELP_ERRORS):
        return error
    if isinstance(error, click.UsageError):
        return _usage_error(error, secret)
    if isinstance(error, click.ClickException):  # a CliError among them
        return error
    if isinstance(error, (ConfigurationError, ArgumentError)):  # refused before any request
        return CliUsageError(scrub(str(error), secret))
    if isinstance(error, ScoutError):
        return CliError(scrub(_describe(error), secret))
    if isinstance(error, OSError):
        return CliError(scrub(_file_error(error), secret))
    if isinstance(error, ArithmeticError):  # a time or duration past what datetime can count
        return CliUsageError(scrub(_out_of_range(error), secret))
    return None


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is now (a progress display or a test may swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)


class _Scrub(logging.Filter):
    def __init__(self, secret: str | None) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secret:
            message = record.getMessage()
            if self.secret in message:
                record.msg, record.args = message.replace(self.secret, REDACTED), None
        return True


def _log_to_stderr(ctx: click.Context, verbose: int, secret: str | None) -> None:
    logger = logging.getLogger(LOGGER_NAME)
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_Scrub(secret))
    previous = logger.level
    logger.setLevel(logging.INFO if verbose == 1 else logging.DEBUG)
    logger.addHandler(handler)

    def restore() -> None:
        logger.removeHandler(handler)
        logger.setLevel(previous)

    ctx.call_on_close(restore)


EPILOG = """\b
Examples:
  export SCOUT_API_KEY=...        # Scout: organization settings -> API tokens
  scout-async apps
  scout-async metrics 101
  scout-async fetch 101 response_time --from 7d
  scout-async fetch 101 throughput --from 2026-06-01 --to 2026-07-01 -o june.csv
  scout-async backfill --apps all --from 30d --resolution 1m -o scout.sqlite
  scout-async archive --db scout.sqlite --every 5m
  scout-async endpoints 101 --sort-by response_time --limit 10
  scout-async demo                # no account needed: the bundled simulator
"""


@click.group(
    "scout-async",
    cls=ScoutGroup,
    epilog=EPILOG,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--api-key",
    envvar=API_KEY_ENV,
    show_envvar=True,
    metavar="KEY",
    help="Scout API key. Prefer the environment variable: a flag shows in `ps` and shell history.",
)
@click.option(
    "--url",
    envvar=BASE_URL_ENV,
    show_envvar=True,
    metavar="URL",
    help=f"API base URL.  [default: {DEFAULT_BASE_URL}]",
)
@click.option(
    "--auth",
    type=click.Choice(AUTH_MODES),
    default="header",
    show_default=True,
    help="Where the key goes: the X-SCOUT-API header (recommended), a ?key= query parameter "
    "(ends up in proxy logs), or a JSON body.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_CONCURRENCY,
    show_default=True,
    help="Most requests in flight at once, across everything the command fetches.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    metavar="SECONDS",
    help="Timeout of each request.",
)
@click.option(
    "--max-retries",
    type=click.IntRange(min=0),
    default=DEFAULT_MAX_RETRIES,
    show_default=True,
    help="Retries of a request after a connection error, timeout, 429 or 5xx.",
)
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="Log retries to stderr; -vv logs every response too.",
)
@click.version_option(__version__, "-V", "--version", prog_name="scout-async")
@click.pass_context
def main(
    ctx: click.Context,
    api_key: str | None,
    url: str | None,
    auth: str,
    concurrency: int,
    timeout: float,
    max_retries: int,
    verbose: int,
) -> None:
    """Read Scout APM metrics: any time window, at one step, streamed in order.

    Long windows are split into requests Scout answers at the same step, fetched concurrently
    and merged in order; transient failures are retried. Errors are one line on stderr: exit
    code 1 when the API or a file fails, 2 for a usage error.
    """
    ctx.obj = Settings(
        api_key=api_key or None,
        url=url or None,
        auth=auth,
        concurrency=concurrency,
        timeout=timeout,
        max_retries=max_retries,
        verbose=verbose,
        clock=ctx.obj if isinstance(ctx.obj, Clock) else SystemClock(),
    )
    if verbose:
        _log_to_stderr(ctx, verbose, api_key)


for command in (
    apps.apps,
    metrics.metrics,
    fetch.fetch,
    backfill.backfill,
    archive.archive,
    endpoints.endpoints,
    jobs.jobs,
    traces.traces,
    traces.trace,
    errors.errors,
    errors.error,
    anomalies.anomalies,
    insights.insights,
    usage.usage,
    demo.demo,
):
    main.add_command(command)
