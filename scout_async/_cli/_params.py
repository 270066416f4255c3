"""click parameter types: times, durations, resolutions and id lists, checked while parsing (exit
2)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

import click

from .._steps import STEPS, format_step, parse_step
from ._times import TimeSpec, parse_duration, parse_time_spec

__all__ = [
    "DURATION",
    "DURATION_OR_ZERO",
    "RESOLUTION",
    "TIME",
    "IdList",
    "NameList",
    "Names",
    "Ids",
]

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
        except ValueError as exc:
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
