"""Showing API records: as a table on stdout, or as JSON (times as ISO 8601 UTC with ``Z``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Literal, TypeVar

import attrs
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from ._context import make_console, stderr_console
from ._times import format_instant

__all__ = [
    "Column",
    "facts_table",
    "listing_console",
    "note",
    "number",
    "percent",
    "plain",
    "print_json",
    "print_table",
    "to_json",
    "when",
]

T = TypeVar("T")

# Fields that repeat what another field holds (a span tree, the raw answer).
_LEFT_OUT = frozenset({"children", "root_spans", "raw"})
# Wide enough, off a terminal, that ids and timestamps do not wrap in a file or a pipe.
_PIPE_WIDTH = 200


def to_json(value: Any) -> Any:
    """``value`` (a model, a list or dict of them) as JSON-able data.

    >>> to_json(App(id=101, name="shop", last_reported_at=t))
    {'id': 101, 'name': 'shop', 'last_reported_at': '2026-07-05T17:20:11Z'}
    """
    if attrs.has(type(value)):
        return {
            field.name: to_json(getattr(value, field.name))
            for field in attrs.fields(type(value))
            if field.name not in _LEFT_OUT
        }
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    return value


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(to_json(value), indent=2) + "\n")


def listing_console() -> Console:
    """stdout; off a terminal, wide, so a table in a file keeps its rows on one line."""
    terminal = sys.stdout.isatty()
    return make_console(sys.stdout, width=None if terminal else _PIPE_WIDTH)


def note(text: str) -> None:
    """A remark on stderr (an empty listing, a clamped window)."""
    stderr_console().print(f"note: {text}", markup=False, highlight=False, soft_wrap=True)


def plain(value: RenderableType) -> RenderableType:
    """``value`` to show as it is: a string (a name from the server, a path) becomes ``Text``, so
    rich never reads its brackets as markup (``Shop [staging]``, ``GET /users/[id]``)."""
    return Text(value) if isinstance(value, str) else value


def facts_table(rows: Iterable[tuple[str, RenderableType]]) -> Table:
    """Two columns, the labels in bold: the facts about one record (a trace, an error group)."""
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    for label, value in rows:
        facts.add_row(Text(label), plain(value))
    return facts


@attrs.frozen
class Column:
    """A table column: its header and how a record fills its cell."""

    header: str
    cell: Callable[[Any], RenderableType]
    justify: Literal["left", "right"] = "left"
    no_wrap: bool = False


def print_table(items: Sequence[T], columns: Sequence[Column], *, empty: str) -> None:
    """``items`` as a table on stdout; ``empty`` as a note on stderr when there are none."""
    if not items:
        note(empty)
        return
    table = Table(header_style="bold")
    for column in columns:
        table.add_column(column.header, justify=column.justify, no_wrap=column.no_wrap)
    for item in items:
        table.add_row(*(plain(column.cell(item)) for column in columns))
    listing_console().print(table)


def number(value: float | None, digits: int = 1) -> str:
    """``1,234.5``; ``-`` for none."""
    return "-" if value is None else f"{value:,.{digits}f}"


def percent(fraction: float | None, digits: int = 2) -> str:
    """A fraction as a percentage: ``0.0021`` is ``0.21%``."""
    return "-" if fraction is None else f"{fraction * 100:.{digits}f}%"


def when(moment: datetime | None) -> Text | str:
    return "-" if moment is None else format_instant(moment)
