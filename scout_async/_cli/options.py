"""Options the commands share (``--from``/``--to``, ``--clamp``, ``--format``) and the click
parameter types they are read with (times, durations, resolutions, id and name lists), checked
while parsing (exit 2)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import click

from .._exceptions import ArgumentError
from .._resources.metrics import APP_METRICS
from .._series.steps import STEPS, format_step, parse_step
from .times import TIME_HELP, TimeSpec, parse_duration, parse_time_spec, resolve_window

__all__ = [
    "DURATION",
    "DURATION_OR_ZERO",
    "RESOLUTION",
    "TIME",
    "IdList",
    "Ids",
    "NameList",
    "Names",
    "clamp_option",
    "format_option",
    "lookback_refused",
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
    """``--format`` with ``choices`` (the first is the default)."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=choices[0],
        show_default=True,
        help=f"{choices[0].capitalize()} to read, or JSON to pipe into jq.",
    )
