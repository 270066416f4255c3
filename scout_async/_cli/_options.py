"""Options the API commands share: ``--from``/``--to``, ``--clamp`` and ``--format``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, TypeVar

import click

from ._params import TIME
from ._times import TIME_HELP, TimeSpec, resolve_window

__all__ = ["clamp_option", "format_option", "lookback_refused", "window", "window_options"]

F = TypeVar("F", bound=Callable[..., Any])


def window_options(default_from: str, what: str) -> Callable[[F], F]:
    """``--from`` (default ``default_from`` ago) and ``--to`` (default now); ``what`` says what
    the window selects, for the help."""

    def decorate(command: F) -> F:
        command = click.option(
            "--to",
            "end",
            type=TIME,
            default="now",
            show_default=True,
            help="Window end (exclusive): same forms as --from.",
        )(command)
        return click.option(
            "--from",
            "start",
            type=TIME,
            default=default_from,
            show_default=True,
            help=f"Window start: {what}. {TIME_HELP}",
        )(command)

    return decorate


def window(start: TimeSpec, end: TimeSpec) -> tuple[datetime, datetime]:
    """``--from``/``--to`` against one reading of the clock; a usage error if empty."""
    try:
        return resolve_window(start, end, datetime.now(timezone.utc))
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


def lookback_refused(exc: ValueError) -> click.UsageError:
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
