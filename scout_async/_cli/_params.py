"""click parameter types: times, resolutions and id lists, checked while parsing (exit 2)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import click

from .._steps import STEPS, format_step, parse_step
from ._times import TimeSpec, parse_time_spec

__all__ = ["RESOLUTION", "TIME", "IdList", "NameList"]

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
    """Comma-separated positive integers: ``101,103``."""

    name = "IDS"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[int, ...]:
        if isinstance(value, tuple):
            return value
        ids: list[int] = []
        for part in str(value).split(","):
            text = part.strip()
            if not text.isdigit() or int(text) <= 0:
                self.fail(f"{text!r} is not an app id; give ids like 101,103", param, ctx)
            ids.append(int(text))
        return tuple(dict.fromkeys(ids))


class NameList(_ParamType):
    """Comma-separated names out of a fixed set: ``response_time,throughput``."""

    name = "NAMES"

    def __init__(self, choices: tuple[str, ...]) -> None:
        self.choices = choices

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[str, ...]:
        if isinstance(value, tuple):
            return value
        names: list[str] = []
        for part in str(value).split(","):
            name = part.strip()
            if name not in self.choices:
                self.fail(f"unknown {name!r}; use some of {','.join(self.choices)}", param, ctx)
            names.append(name)
        return tuple(dict.fromkeys(names))


TIME = TimeType()
RESOLUTION = ResolutionType()
