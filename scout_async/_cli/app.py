"""The ``scout-async`` command group: global options, the profile, logging, and turning errors into
one line.

Exit codes: 0 done (also when the reader of stdout went away: ``| head``), 1 the API or the file
system failed, 2 a usage error (bad option, missing key, an empty window, an argument the library
refuses: ``ArgumentError``), 130 interrupted by Ctrl-C. No traceback for any of them: a user
mistake or an API error is one ``error: ...`` line on stderr, with the API key scrubbed, and a
hint that names the cause (which id, which URL). Anything else (a plain ``ValueError``, a
``MemoryError``) is a bug: one ``error: unexpected error (...)`` line too, exit code 1, its
traceback logged on the ``scout_async`` logger (shown with ``-vv``).

Run from Python, ``main(args, obj=clock)`` (or ``CliRunner().invoke(main, args, obj=clock)``)
runs the command on ``clock``, a ``scout_async.Clock``: "now" for ``--from 30d``, and the clock of
every client it makes. Tests use it for virtual time.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import os
import re
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
    ServerError,
)
from .._redact import REDACTED
from .._version import __version__
from .commands import (
    anomalies,
    apps,
    archive,
    auth,
    backfill,
    completion,
    config,
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
from .config import APP_ENV, PROFILE_ENV, ConfigFile, normalize_url
from .context import CliError, CliUsageError, Interrupted, Settings, colour, scrub

__all__ = ["main"]


def _usage_error(exc: click.UsageError, secret: str | None) -> CliError:
    hint = ""
    if exc.ctx is not None:
        hint = f" (see '{exc.ctx.command_path} --help')"
    return CliUsageError(scrub(exc.format_message(), secret) + hint)


_APP_PATH = re.compile(r"^/apps/(\d+)(?:/([a-z_]+)(?:/([^/]+))?)?")


def _name_of(encoded: str) -> str:
    """An endpoint's or job's name from its id (standard base64 of the name), for a message."""
    try:
        name = base64.b64decode(encoded.replace("%3D", "=").replace("%2F", "/"), validate=True)
        return repr(name.decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return encoded


def _not_found_hint(path: str, url: str | None) -> str:
    """Which id Scout did not find, from the path it answered 404 for, and where to look."""
    found = _APP_PATH.match(path)
    if found is None:
        where = url or DEFAULT_BASE_URL
        return (
            f"{where} answered 404 for {path}: is it Scout's API? Its base URL ends in /api/v0 "
            f"(a bare host such as https://scoutapm.com gets it added); check --url or "
            f"{BASE_URL_ENV}"
        )
    app, area, item = found.group(1), found.group(2), found.group(3)
    if area == "endpoints" and item:
        return (
            f"app {app} has no endpoint {_name_of(item)} (or there is no app {app}); see "
            f"`scout-async endpoints {app}` for its endpoints"
        )
    if area == "jobs" and item:
        return (
            f"app {app} has no background job {_name_of(item)} (or there is no app {app}); see "
            f"`scout-async jobs {app}` for its jobs"
        )
    if area == "traces" and item:
        return (
            f"app {app} has no trace {item} (Scout keeps traces 7 days); see `scout-async traces "
            f"{app} ENDPOINT_ID` for trace ids"
        )
    if area == "error_groups" and item:
        return f"app {app} has no error group {item}; see `scout-async errors {app}` for their ids"
    if area == "anomaly_events" and item:
        return f"app {app} has no anomaly event {item}; see `scout-async anomalies {app}`"
    return f"there is no app {app} that this key can see; see `scout-async apps` for the app ids"


def _describe(exc: ScoutError, url: str | None = None) -> str:
    if isinstance(exc, AuthenticationError):
        said = f"{exc.status_code} {exc.server_message or ''}".strip()
        return (
            f"the server refused the API key ({exc.method} {exc.path}: {said}); "
            f"check --api-key, {API_KEY_ENV} or `scout-async auth status`"
        )
    if isinstance(exc, APITimeoutError):
        return f"{exc}; a longer --timeout may help"
    if isinstance(exc, APIConnectionError):
        return f"{exc}; check --url or {BASE_URL_ENV} ({url or DEFAULT_BASE_URL})"
    if isinstance(exc, NotFoundError):
        return f"{exc}; {_not_found_hint(exc.path or '', url)}"
    if isinstance(exc, ServerError) and exc.path and re.match(r"^/apps/\d+/jobs/[^/]+/", exc.path):
        app = exc.path.split("/")[2]
        return (
            f"{exc}; Scout answers an unknown job id with a 500: check it with "
            f"`scout-async jobs {app}`"
        )
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
        except KeyboardInterrupt:  # Ctrl-C while the options are read: not click's "Aborted!"
            raise Interrupted("interrupted (Ctrl-C)") from None

    def invoke(self, ctx: click.Context) -> Any:
        secret = ctx.params.get("api_key")
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Interrupted("interrupted (Ctrl-C)") from None
        except Exception as exc:
            error = _sole_error(exc)
            if isinstance(error, BrokenPipeError):
                _quiet_broken_pipe()
                ctx.exit(0)
            settings = ctx.obj if isinstance(ctx.obj, Settings) else None
            shown = _one_line(error, secret, settings)
            if shown is None or shown is exc:
                raise
            raise shown from None
        except BaseException as exc:
            if _sole_base_error(exc) is not None:
                raise Interrupted("interrupted (Ctrl-C)") from None
            raise


def _sole_base_error(exc: BaseException) -> KeyboardInterrupt | None:
    """The Ctrl-C inside an exception group of one (as a task group raises it), if it is one."""
    while any(kind.__name__ == "BaseExceptionGroup" for kind in type(exc).__mro__):
        inner: tuple[object, ...] = getattr(exc, "exceptions", ())
        if len(inner) != 1 or not isinstance(inner[0], BaseException):
            return None
        exc = inner[0]
    return exc if isinstance(exc, KeyboardInterrupt) else None


def _sole_error(exc: Exception) -> Exception:
    """The one error inside ``exc`` if it is an exception group (nested or not) of just one, as a
    task group raises; else ``exc``."""
    while any(kind.__name__ == "BaseExceptionGroup" for kind in type(exc).__mro__):
        inner: tuple[object, ...] = getattr(exc, "exceptions", ())
        if len(inner) != 1 or not isinstance(inner[0], Exception):
            break
        exc = inner[0]
    return exc


def _one_line(
    error: Exception, secret: str | None, settings: Settings | None = None
) -> Exception | None:
    """What ``error`` is shown as: a ``CliError`` (one line) or a click exception as it is."""
    if isinstance(error, (*_HELP_ERRORS, click.exceptions.Exit, click.exceptions.Abort)):
        return error  # click's own ways to end: --help, ctx.exit(code), an abort
    if isinstance(error, click.UsageError):
        return _usage_error(error, secret)
    if isinstance(error, click.ClickException):  # a CliError among them
        return error
    if isinstance(error, (ConfigurationError, ArgumentError)):  # refused before any request
        return CliUsageError(scrub(str(error), secret))
    if settings is not None:
        secret = secret or settings.api_key
    if isinstance(error, ScoutError):
        url = settings.url if settings is not None else None
        return CliError(scrub(_describe(error, url), secret))
    if isinstance(error, OSError):
        return CliError(scrub(_file_error(error), secret))
    if isinstance(error, ArithmeticError):  # a time or duration past what datetime can count
        return CliUsageError(scrub(_out_of_range(error), secret))
    # Anything else is a bug, of scout-async or below it: one line that names it; the traceback
    # goes to the scout_async logger, on stderr with -vv.
    logging.getLogger(LOGGER_NAME).debug("unexpected error", exc_info=error)
    said = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return CliError(
        scrub(
            f"unexpected error ({said}); please report it with the command that caused it "
            "(-vv shows the traceback)",
            secret,
        )
    )


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
  scout-async auth login          # the key from Scout: organization settings -> API tokens
  scout-async config set default_app 101
  scout-async apps
  scout-async jobs                # the default app's jobs; or: scout-async jobs 101
  scout-async fetch 101 response_time --from 7d
  scout-async fetch 101 throughput --from 2026-06-01 --to 2026-07-01 -o june.csv
  scout-async --json anomalies 101 | jq '.[] | select(.severity == "critical")'
  scout-async backfill --apps all --from 30d --resolution 1m -o scout.sqlite
  scout-async archive --db scout.sqlite --every 5m
  scout-async demo                # no account needed: the bundled simulator

\b
Output: tables, trees and charts on a terminal; JSON when stdout is a pipe or a file (and with
--json anywhere), JSON lines for a series (fetch --format csv|jsonl|json to choose). stdout
carries only data; progress, notes and errors go to stderr. Off a terminal, long commands print a
progress line every --heartbeat seconds.

\b
Exit codes:
  0    done (also when the reader of stdout goes away, as with `| head`)
  1    the API or a file failed (the error line says which id, URL or path)
  2    usage error: a bad option, no API key, an empty window
  130  interrupted by Ctrl-C

\b
Configuration: `auth login` stores the key in a profile of the config file (see `config path`),
with --profile or SCOUT_PROFILE choosing the profile; --api-key/SCOUT_API_KEY and
--url/SCOUT_API_URL override it. Shell completion: `scout-async completion bash|zsh|fish`.
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
    help="Scout API key; by default the profile's (`auth login`). Prefer the variable or the "
    "profile: a flag shows in `ps` and shell history.",
)
@click.option(
    "--url",
    envvar=BASE_URL_ENV,
    show_envvar=True,
    metavar="URL",
    help=f"API base URL; a bare host (https://scoutapm.com) gets /api/v0.  [default: the "
    f"profile's, else {DEFAULT_BASE_URL}]",
)
@click.option(
    "--profile",
    envvar=PROFILE_ENV,
    show_envvar=True,
    metavar="NAME",
    default=None,
    help="The profile of the config file to use.  [default: the file's default_profile, else "
    "'default']",
)
@click.option(
    "--app",
    "app_id",
    envvar=APP_ENV,
    show_envvar=True,
    type=click.IntRange(min=1),
    default=None,
    metavar="ID",
    help="The app a command uses when given none.  [default: the profile's default_app]",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="JSON on stdout, even on a terminal (it is the default off a terminal).",
)
@click.option(
    "-n",
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help='Show at most N records of a listing ("Showing N of M" on stderr).',
)
@click.option(
    "--no-color",
    is_flag=True,
    help="No colours (NO_COLOR=1 does the same).",
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
    "--heartbeat",
    type=click.FloatRange(min=0),
    envvar="SCOUT_HEARTBEAT",
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="Off a terminal, a progress line on stderr this often during long commands; 0: none.",
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
    profile: str | None,
    app_id: int | None,
    as_json: bool,
    limit: int | None,
    no_color: bool,
    auth: str,
    concurrency: int,
    timeout: float,
    max_retries: int,
    heartbeat: float,
    verbose: int,
) -> None:
    """Read Scout APM metrics: any time window, at one step, streamed in order.

    Long windows are split into requests Scout answers at the same step, fetched concurrently
    and merged in order; transient failures are retried. Errors are one line on stderr (exit
    codes below).
    """
    colour(not no_color)
    file = ConfigFile()
    name = file.profile_name(profile)
    stored = file.profile(name)
    if (
        profile
        and ctx.invoked_subcommand not in ("auth", "config")
        and (name not in file.profiles())
    ):
        raise click.BadParameter(
            f"no profile {name!r} in {file.path}; create it with `scout-async --profile "
            f"{name} auth login`",
            param_hint="'--profile'",
        )
    key_source = None
    if api_key:
        given = ctx.get_parameter_source("api_key") is click.core.ParameterSource.COMMANDLINE
        key_source = "--api-key" if given else API_KEY_ENV
    elif stored.api_key:
        api_key, key_source = stored.api_key, f"profile {name!r}"
    app_source = None
    if app_id is not None:
        given = ctx.get_parameter_source("app_id") is click.core.ParameterSource.COMMANDLINE
        app_source = "--app" if given else APP_ENV
    elif stored.default_app is not None:
        app_id, app_source = stored.default_app, f"profile {name!r}"
    chosen_url = url or stored.api_url
    ctx.obj = Settings(
        api_key=api_key or None,
        url=normalize_url(chosen_url) if chosen_url else None,
        auth=auth,
        concurrency=concurrency,
        timeout=timeout,
        max_retries=max_retries,
        verbose=verbose,
        clock=ctx.obj if isinstance(ctx.obj, Clock) else SystemClock(),
        profile=name,
        config=file,
        key_source=key_source,
        app=app_id,
        app_source=app_source,
        json=as_json,
        limit=limit,
        heartbeat=heartbeat,
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
    auth.auth,
    config.config,
    completion.completion,
):
    main.add_command(command)
main.add_command(__import__(f"{__package__}.commands.exporter", fromlist=["exporter"]).exporter)
