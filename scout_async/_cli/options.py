"""Options the commands share (``--from``/``--to``, ``--clamp``, ``--format``) and the click
parameter types they are read with (times, durations, resolutions, id and name lists), checked
while parsing (exit 2)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import click

from .._exceptions import ArgumentError
from .._resources.metrics import APP_METRICS
from .._series.steps import STEPS, format_step, parse_step
from .context import Settings
from .render import note
from .times import (
    TIME_HELP,
    TimeSpec,
    format_instant,
    parse_duration,
    parse_time_spec,
    resolve_window,
)

__all__ = [
    "APP_ARGUMENT",
    "DURATION",
    "DURATION_OR_ZERO",
    "RESOLUTION",
    "TIME",
    "IdList",
    "Ids",
    "NameList",
    "Names",
    "clamp_option",
    "app_and",
    "app_option",
    "format_option",
    "limit_option",
    "listing_limit",
    "lookback_refused",
    "lookback_window",
    "endpoint_ref",
    "job_ref",
    "resolve_app",
    "retention_note",
    "selection_options",
    "to_option",
    "window",
    "window_options",
]

F = TypeVar("F", bound=Callable[..., Any])

#: What ``IdList(allow_all=True)``/``NameList(..., allow_all=True)`` give: a list or ``"all"``.
Ids = tuple[int, ...] | Literal["all"]
Names = tuple[str, ...] | Literal["all"]

if TYPE_CHECKING:  # generic in click >= 8.2 only: subscript it for the type checker alone
    _ParamType = click.ParamType[Any, Any]
else:
    _ParamType = click.ParamType


class TimeType(_ParamType):
    name = "TIME"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> TimeSpec:
        if isinstance(value, TimeSpec):
            return value
        try:
            return parse_time_spec(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class DurationType(_ParamType):
    name = "DURATION"

    def __init__(self, *, allow_zero: bool = False) -> None:
        self.allow_zero = allow_zero

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> timedelta:
        if isinstance(value, timedelta):
            return value
        try:
            return parse_duration(str(value), allow_zero=self.allow_zero)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class ResolutionType(_ParamType):
    name = "STEP"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> timedelta:
        if isinstance(value, timedelta):
            return value
        try:
            return parse_step(str(value))
        except ArgumentError as exc:
            self.fail(str(exc), param, ctx)

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return "[" + "|".join(format_step(s) for s in STEPS) + "]"


class IdList(_ParamType):
    """Comma-separated positive integers: ``101,103``; also ``all`` with ``allow_all``."""

    name = "IDS"

    def __init__(self, *, allow_all: bool = False) -> None:
        self.allow_all = allow_all
        if allow_all:
            self.name = "IDS|all"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> Ids:
        if isinstance(value, tuple):
            return value
        if self.allow_all and str(value).strip().lower() == "all":
            return "all"
        ids: list[int] = []
        for part in str(value).split(","):
            text = part.strip()
            if not text.isdigit() or int(text) <= 0:
                self.fail(f"{text!r} is not an app id; give ids like 101,103", param, ctx)
            ids.append(int(text))
        return tuple(dict.fromkeys(ids))


class NameList(_ParamType):
    """Comma-separated names out of a fixed set: ``response_time,throughput``; also ``all`` with
    ``allow_all``."""

    name = "NAMES"

    def __init__(self, choices: tuple[str, ...], *, allow_all: bool = False) -> None:
        self.choices = choices
        self.allow_all = allow_all
        if allow_all:
            self.name = "NAMES|all"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> Names:
        if isinstance(value, tuple):
            return value
        if self.allow_all and str(value).strip().lower() == "all":
            return "all"
        names: list[str] = []
        for part in str(value).split(","):
            name = part.strip()
            if name not in self.choices:
                self.fail(f"unknown {name!r}; use some of {','.join(self.choices)}", param, ctx)
            names.append(name)
        return tuple(dict.fromkeys(names))


TIME = TimeType()
DURATION = DurationType()
DURATION_OR_ZERO = DurationType(allow_zero=True)
RESOLUTION = ResolutionType()


#: ``--to``, the end of a window (default now).
to_option = click.option(
    "--to",
    "end",
    type=TIME,
    default="now",
    show_default=True,
    help="Window end (exclusive): same forms as --from.",
)


def window_options(default_from: str, what: str) -> Callable[[F], F]:
    """``--from`` (default ``default_from`` ago) and ``--to`` (default now); ``what`` says what
    the window selects, for the help."""

    def decorate(command: F) -> F:
        return click.option(
            "--from",
            "start",
            type=TIME,
            default=default_from,
            show_default=True,
            help=f"Window start: {what}. {TIME_HELP}",
        )(to_option(command))

    return decorate


def selection_options(all_apps: str) -> Callable[[F], F]:
    """``--apps`` and ``--metrics`` of a bulk command: lists, or ``all`` (the default);
    ``all_apps`` is the help's word for ``--apps all``."""

    def decorate(command: F) -> F:
        command = click.option(
            "--metrics",
            type=NameList(APP_METRICS, allow_all=True),
            default="all",
            show_default=True,
            help="Comma-separated metrics (" + ", ".join(APP_METRICS) + "), or all that each app "
            "offers.",
        )(command)
        return click.option(
            "--apps",
            type=IdList(allow_all=True),
            default="all",
            show_default=True,
            help=f"Comma-separated app ids (see `apps`), or {all_apps}.",
        )(command)

    return decorate


def window(start: TimeSpec, end: TimeSpec, now: datetime) -> tuple[datetime, datetime]:
    """``--from``/``--to`` against one reading of the clock, ``now``; a usage error if empty."""
    try:
        return resolve_window(start, end, now)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def clamp_option(limit: str) -> Callable[[F], F]:
    """``--clamp``: move a start older than Scout's ``limit`` (``7 days``) up to the earliest
    allowed instant instead of refusing it."""
    return click.option(
        "--clamp",
        is_flag=True,
        help=f"Scout serves these only within the last {limit}: start at the earliest allowed "
        "instant instead of refusing an older --from.",
    )


def lookback_refused(exc: ArgumentError) -> click.UsageError:
    """The library's lookback refusal, in the words of the command line (``--clamp``)."""
    return click.UsageError(str(exc).replace("clamp=True", "--clamp"))


def format_option(*choices: str) -> Callable[[F], F]:
    """``--format`` with ``choices``: the first (a table, a tree) on a terminal, ``json`` off it
    or with the global ``--json`` (see ``context.choose_format``)."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=None,
        help=f"{choices[0].capitalize()} to read, or JSON to pipe into jq.  [default: "
        f"{choices[0]} on a terminal, json off it or with --json]",
    )


def _store(name: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is not None:
            ctx.meta[f"scout_async.{name}"] = value
        return value

    return callback


#: ``APP``, optional: without it, ``--app``, ``SCOUT_APP`` or the profile's default app.
APP_ARGUMENT = click.argument("app_id", metavar="[APP]", required=False, type=click.IntRange(min=1))


def app_option(command: F) -> F:
    """``--app ID`` on a command (as Scout's Go CLI takes it), instead of the ``APP`` argument."""
    return click.option(
        "--app",
        type=click.IntRange(min=1),
        default=None,
        metavar="ID",
        expose_value=False,
        callback=_store("app"),
        help="The app, instead of APP.  [default: --app/SCOUT_APP before the command, else the "
        "profile's default_app]",
    )(command)


def limit_option(command: F) -> F:
    """``-n/--limit N`` on a listing command (the global one works before the command)."""
    return click.option(
        "-n",
        "--limit",
        type=click.IntRange(min=1),
        default=None,
        metavar="N",
        expose_value=False,
        callback=_store("limit"),
        help='Show at most N records ("Showing N of M" on stderr).',
    )(command)


def resolve_app(settings: Settings, given: int | None) -> int:
    """The app a command works on: ``APP``, else the command's ``--app``, else the default."""
    if given is not None:
        return given
    flagged = click.get_current_context().meta.get("scout_async.app")
    return settings.require_app(flagged if isinstance(flagged, int) else None)


def listing_limit(settings: Settings) -> int | None:
    """The command's ``-n``, else the global one."""
    flagged = click.get_current_context().meta.get("scout_async.limit")
    return flagged if isinstance(flagged, int) else settings.limit


def app_and(
    settings: Settings, first: str | None, second: str | None, name: str, *, numeric: bool
) -> tuple[int, str]:
    """``[APP] THING``: two words are the app and the thing; one word is the thing of the default
    app. With ``numeric`` (a trace or error id) any one word is the thing; else one word of
    digits is an app whose THING is missing."""
    if second is None:
        if first is None or (not numeric and first.isdigit()):
            raise click.UsageError(f"Missing argument '{name}'.")
        return resolve_app(settings, None), first
    app = click.IntRange(min=1).convert(first, None, click.get_current_context())  # type: ignore[arg-type]
    return int(app), second


def lookback_window(
    settings: Settings,
    start: TimeSpec | None,
    end: TimeSpec,
    *,
    limit: timedelta,
    limit_text: str,
    what: str,
    clamp: bool,
) -> tuple[datetime, datetime, bool]:
    """The window of a command Scout serves only within ``limit`` of now (traces: 7 days; errors
    and anomalies: 30), and whether to clamp it.

    No ``--from``: the longest window allowed, said on stderr. A relative ``--from`` no older
    than the limit (``30d``): clamped, since "now" moves on while the command runs. An older or
    absolute ``--from``: as given (refused unless ``--clamp``).
    """
    if start is None:
        start = TimeSpec(text=limit_text, ago=limit)
        note(
            f"{what} from the last {limit_text}, the longest window Scout serves "
            "(--from to choose another)"
        )
        clamp = True
    elif start.ago is not None and start.ago <= limit:
        clamp = True
    start_at, end_at = window(start, end, settings.now())
    return start_at, end_at, clamp


def retention_note(start: datetime, now: datetime, *, days: int = 30) -> None:
    """A note when ``start`` is older than Scout's ~30 days of metrics: where the data starts."""
    begins = now - timedelta(days=days)
    if start < begins:
        note(
            f"Scout keeps about {days} days of metrics: data starts at about "
            f"{format_instant(begins)}; the window before that has no points"
        )


def _decoded(value: str) -> str | None:
    """What ``value`` encodes, if it is standard base64 of printable text (an id)."""
    try:
        text = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return text if text and text.isprintable() else None


def endpoint_ref(value: str) -> str:
    """An endpoint's id (base64 of its name, the id column of ``endpoints``), from the id or the
    name itself (``users/index``), as Scout's Go CLI takes both."""
    return value if _decoded(value) is not None else base64.b64encode(value.encode()).decode()


def job_ref(value: str) -> str:
    """A job's id (base64 of ``queue/JobName``) from the id or the full name."""
    decoded = _decoded(value)
    if decoded is not None and "/" in decoded:
        return value
    return base64.b64encode(value.encode()).decode()
