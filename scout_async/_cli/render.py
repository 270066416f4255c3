"""How the CLI shows what it got.

- API records (``endpoints``, ``traces``, ...): a table on stdout, or JSON (times as ISO 8601 UTC
  with ``Z``); the facts of one record; notes on stderr.
- A fetched series (``fetch``): its output formats (table, jsonl, csv, json; times as the sinks
  write them, ``format_time``) and the terminal sparkline. Every writer takes points one at a
  time and keeps only a bounded amount of them (the table keeps a head, a tail and one running
  mean per sparkline column), so a month at one minute streams through in constant memory.
- The end of a backfill: a table of its series and a few lines of totals.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol, TextIO, TypeVar

import attrs
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from .._bulk.report import BackfillResult, SeriesResult
from .._core import ClientStats
from .._exceptions import ScoutError
from .._series.steps import format_step
from .._time import format_time
from ..types._models import Point
from .context import make_console, scrub, stderr_console
from .times import format_instant
from .units import Unit, with_unit

__all__ = [
    "BLOCKS",
    "CHART_HEIGHT",
    "FORMATS",
    "ID_WIDTH",
    "MAX_ROWS",
    "Column",
    "PointWriter",
    "SeriesInfo",
    "SeriesStats",
    "build_table",
    "chart_lines",
    "default_format",
    "error_text",
    "facts_table",
    "format_value",
    "jsonl_line",
    "limited",
    "listing_console",
    "make_writer",
    "note",
    "number",
    "open_output",
    "percent",
    "plain",
    "print_backfill_summary",
    "print_json",
    "print_listing",
    "print_table",
    "shorten_middle",
    "showing",
    "sparkline",
    "table_time",
    "to_json",
    "when",
    "with_units",
    "write_json",
]

T = TypeVar("T")

# --- API records ----------------------------------------------------------------------------------

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


def with_units(value: Any, units: dict[str, str] | None) -> Any:
    """``value`` as JSON (``to_json``) with ``"units"`` added to each record (a dict, or each dict
    of a list): the unit of each of its figures (``{"response_time": "ms", ...}``)."""
    data = to_json(value)
    if not units:
        return data
    if isinstance(data, dict):
        return {**data, "units": units}
    if isinstance(data, list):
        return [{**item, "units": units} if isinstance(item, dict) else item for item in data]
    return data


def print_json(value: Any, units: dict[str, str] | None = None) -> None:
    """``value`` as indented JSON on stdout; ``units`` go into each record (``with_units``)."""
    write_json(with_units(value, units))


def write_json(data: Any) -> None:
    """JSON-able ``data``, indented, on stdout."""
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


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
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column(overflow="fold")
    for label, value in rows:
        facts.add_row(Text(label), plain(value))
    return facts


ColumnKind = Literal["text", "id", "number", "time"]


@attrs.frozen
class Column:
    """A table column: its header and how a record fills its cell.

    ``kind`` says how it gives way on a narrow terminal: a ``number`` never (no wrap, never cut),
    an ``id`` is shortened in the middle (``YXBpL2…dw==``; the full id is in ``--json``), a
    ``time`` wraps between date and time, ``text`` wraps (a long word folds). ``no_wrap`` makes
    a text column a ``number`` one (kept for the callers that say so).
    """

    header: str
    cell: Callable[[Any], RenderableType]
    justify: Literal["left", "right"] = "left"
    no_wrap: bool = False
    kind: ColumnKind | None = None

    @property
    def fits(self) -> ColumnKind:
        if self.kind is not None:
            return self.kind
        return "number" if self.no_wrap or self.justify == "right" else "text"


#: An id is shortened to this many characters when the table does not fit the terminal.
ID_WIDTH = 13
#: A text column up to this wide keeps its width; wider ones share what is left.
_SHORT_TEXT = 18
_SEPARATOR = 3  # " │ " between two columns (no outer edge)


def shorten_middle(text: str, width: int = ID_WIDTH) -> str:
    """``text`` cut to ``width`` characters in the middle, both ends kept.

    >>> shorten_middle("YXBpL21ldHJpY3Mvc2hvdw==")
    'YXBpL2…dw=='
    """
    if len(text) <= width:
        return text
    keep = max(2, width - 1)
    head = (keep + 1) // 2
    return text[:head] + "…" + text[len(text) - (keep - head) :]


def _width(cell: RenderableType) -> int:
    if isinstance(cell, Text):
        return max((len(line) for line in cell.plain.splitlines()), default=0)
    if isinstance(cell, str):
        return max((len(line) for line in cell.splitlines()), default=0)
    return 0


def build_table(
    rows: Sequence[Sequence[RenderableType]], columns: Sequence[Column], width: int
) -> Table:
    """``rows`` under ``columns`` laid out for ``width`` columns of terminal (see ``Column``)."""
    count = len(columns)
    natural = [
        max([len(column.header), *(_width(row[i]) for row in rows)])
        for i, column in enumerate(columns)
    ]
    room = width - _SEPARATOR * (count - 1) - 2
    if sum(natural) > room:
        shortened = []
        for row in rows:
            shortened.append(
                [
                    shorten_middle(cell)
                    if columns[i].fits == "id" and isinstance(cell, str)
                    else cell
                    for i, cell in enumerate(row)
                ]
            )
        rows = shortened
        natural = [
            min(n, max(ID_WIDTH, len(c.header))) if c.fits == "id" else n
            for n, c in zip(natural, columns, strict=True)
        ]
    fixed = [
        c.fits in ("number", "id") or (c.fits == "text" and n <= _SHORT_TEXT)
        for n, c in zip(natural, columns, strict=True)
    ]
    table = Table(header_style="bold", show_edge=False)
    for i, column in enumerate(columns):
        kind = column.fits
        if kind in ("number", "id"):
            table.add_column(
                column.header, justify=column.justify, no_wrap=True, min_width=natural[i]
            )
        elif fixed[i]:
            table.add_column(
                column.header, justify=column.justify, overflow="fold", min_width=natural[i]
            )
        else:
            table.add_column(column.header, justify=column.justify, overflow="fold")
    for row in rows:
        table.add_row(*(plain(cell) for cell in row))
    return table


def limited(items: Sequence[T], limit: int | None) -> tuple[Sequence[T], int]:
    """The first ``limit`` items (all without one) and how many there were."""
    if limit is None or limit >= len(items):
        return items, len(items)
    return items[:limit], len(items)


def showing(shown: int, total: int) -> None:
    """ "Showing N of M" on stderr when ``-n`` left some out."""
    if shown < total:
        stderr_console().print(
            f"Showing {shown:,} of {total:,}; -n/--limit shows more.",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


def print_table(
    items: Sequence[T], columns: Sequence[Column], *, empty: str, limit: int | None = None
) -> None:
    """``items`` (at most ``limit``) as a table on stdout; ``empty`` as a note on stderr when
    there are none; "Showing N of M" when some were left out."""
    if not items:
        note(empty)
        return
    shown, total = limited(items, limit)
    console = listing_console()
    rows = [[column.cell(item) for column in columns] for item in shown]
    console.print(build_table(rows, columns, console.width))
    showing(len(shown), total)


def print_listing(
    items: Sequence[T],
    columns: Sequence[Column],
    *,
    fmt: str,
    empty: str,
    limit: int | None,
    units: dict[str, str] | None = None,
) -> None:
    """A listing in ``fmt``: a table (``print_table``) or JSON (at most ``limit`` records, each
    with its ``units``)."""
    if fmt == "json":  # JSON carries the records only: no "Showing N of M" (as the Go CLI)
        shown, _ = limited(items, limit)
        print_json(list(shown), units)
        return
    print_table(items, columns, empty=empty, limit=limit)


def number(value: float | None, digits: int = 1) -> str:
    """``1,234.5``; ``-`` for none."""
    return "-" if value is None else f"{value:,.{digits}f}"


def percent(fraction: float | None, digits: int = 2) -> str:
    """A fraction as a percentage: ``0.0021`` is ``0.21%``."""
    return "-" if fraction is None else f"{fraction * 100:.{digits}f}%"


def when(moment: datetime | None) -> Text | str:
    return "-" if moment is None else format_instant(moment)


def table_time(moment: datetime | None) -> str:
    """``2026-07-05 17:20:11``: an instant in a table (UTC, said in the header), which wraps
    between date and time on a narrow terminal."""
    return "-" if moment is None else format_instant(moment).replace("T", " ").rstrip("Z")


# --- a fetched series -----------------------------------------------------------------------------

FORMATS = ("table", "jsonl", "csv", "json")
BLOCKS = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 60
HEAD_TAIL = 10


@attrs.frozen
class SeriesInfo:
    """What is being fetched: the series and its grid (``buckets`` steps from ``origin``).

    ``scope`` is ``None`` for an app metric, else ``("endpoint_id", id)`` or ``("job_id", id)``.
    """

    app_id: int
    metric: str
    step: timedelta
    start: datetime
    end: datetime
    origin: datetime
    buckets: int
    scope: tuple[str, str] | None = None
    unit: Unit = attrs.field(factory=lambda: Unit("", "not documented"))

    @property
    def title(self) -> str:
        """``app 101 · response_time``, with ``endpoint ID``/``job ID`` between them."""
        where = "" if self.scope is None else f" · {self.scope[0][:-3]} {self.scope[1]}"
        return f"app {self.app_id}{where} · {self.metric}"


class PointWriter(Protocol):
    def write(self, point: Point) -> None: ...

    def close(self) -> None:
        """Finish the output (closing brackets, the table); the stream itself stays open."""


def format_value(value: float | None) -> str:
    return "null" if value is None else f"{value:.6g}"


def jsonl_line(point: Point) -> str:
    """One point as a JSON object and a newline: ``{"time": "...Z", "value": 1.5}``."""
    # What json.dumps writes, without its per-call overhead (a month at 1 min is 43,200 lines).
    value = "null" if point.value is None else json.dumps(point.value)
    return f'{{"time": "{format_time(point.time)}", "value": {value}}}\n'


def sparkline(values: Sequence[float | None]) -> str:
    """One block character per value, scaled from the smallest to the largest; gaps are spaces.

    >>> sparkline([1, 2, 3, None, 8])
    '▁▂▃ █'
    """
    known = [v for v in values if v is not None]
    if not known:
        return " " * len(values)
    low, high = min(known), max(known)
    span = high - low
    top = len(BLOCKS) - 1

    def block(value: float | None) -> str:
        if value is None:
            return " "
        if span == 0:
            return BLOCKS[top // 2]  # a flat line, drawn mid-height so it does not read as zero
        return BLOCKS[round((value - low) / span * top)]

    return "".join(block(v) for v in values)


class _Columns:
    """Running means of a series in ``count`` equal columns of its grid."""

    def __init__(self, info: SeriesInfo, count: int) -> None:
        self._info = info
        self.count = max(1, min(count, info.buckets))
        self._sums = [0.0] * self.count
        self._counts = [0] * self.count

    def add(self, point: Point, value: float) -> None:
        index = (point.time - self._info.origin) // self._info.step
        buckets = max(1, self._info.buckets)
        column = min(self.count - 1, max(0, index * self.count // buckets))
        self._sums[column] += value
        self._counts[column] += 1

    def means(self) -> list[float | None]:
        return [s / n if n else None for s, n in zip(self._sums, self._counts, strict=True)]


class SeriesStats:
    """Running count, min/mean/max, first/last point, head/tail, and the column means of the
    sparkline (``width``) and of the chart (``chart_width``)."""

    def __init__(
        self,
        info: SeriesInfo,
        *,
        width: int = SPARK_WIDTH,
        keep: int = HEAD_TAIL,
        chart_width: int = SPARK_WIDTH,
    ):
        self.info = info
        self.count = 0
        self.nulls = 0
        self.low: float | None = None
        self.high: float | None = None
        self.total = 0.0
        self.first: Point | None = None
        self.last: Point | None = None
        self.head: list[Point] = []
        self.tail: deque[Point] = deque(maxlen=keep)
        self._keep = keep
        self._spark = _Columns(info, width)
        self._chart = _Columns(info, chart_width)

    def add(self, point: Point) -> None:
        self.count += 1
        if self.first is None:
            self.first = point
        self.last = point
        if len(self.head) < self._keep:
            self.head.append(point)
        else:
            self.tail.append(point)
        if point.value is None:
            self.nulls += 1
            return
        value = point.value
        self.low = value if self.low is None else min(self.low, value)
        self.high = value if self.high is None else max(self.high, value)
        self.total += value
        self._spark.add(point, value)
        self._chart.add(point, value)

    @property
    def mean(self) -> float | None:
        known = self.count - self.nulls
        return self.total / known if known else None

    def spark(self) -> str:
        return sparkline(self._spark.means())

    def chart_values(self) -> list[float | None]:
        return self._chart.means()


#: Rows of the chart: 8 lines, as Scout's Go CLI draws.
CHART_HEIGHT = 8
_LABEL = 12  # the chart's y labels: "  1,234.56 " and the axis


def chart_label(value: float) -> str:
    """A y-axis label: at most 10 characters, digits kept (``1,234.5``, ``0.9312``, ``1.2e+07``)."""
    size = abs(value)
    if size >= 1e7:
        return f"{value:.3g}"
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:,.1f}"
    return f"{value:.3f}"


def chart_lines(values: Sequence[float | None], height: int = CHART_HEIGHT) -> list[str]:
    """An ASCII line chart of ``values`` (one column each, gaps left blank), ``height`` rows tall
    with labelled y values (asciichartpy); no lines if no value is known."""
    try:
        import asciichartpy
    except ModuleNotFoundError:  # the cli extra installed in part: the table goes without
        return []

    known = [v for v in values if v is not None]
    if not known:
        return []
    series = [math.nan if v is None else v for v in values]
    low, high = min(known), max(known)
    size = max(abs(low), abs(high))
    label = "{:>10,.0f} " if size >= 1000 else "{:>10,.1f} " if size >= 10 else "{:>10.3f} "
    config: dict[str, object] = {"height": height - 1, "format": label}
    if low == high:  # a flat line: give it a band so it is drawn mid-height
        pad = abs(low) * 0.1 or 1.0
        config |= {"min": low - pad, "max": high + pad}
    drawn: str = asciichartpy.plot(series, config)
    return drawn.splitlines()


def time_axis(first: datetime, last: datetime, width: int) -> str:
    """The chart's x axis: the first bucket's time at the left, the last one's at the right."""
    left, right = table_time(first)[:16], table_time(last)[:16]
    gap = width - _LABEL - len(left) - len(right)
    if gap < 1:
        return " " * _LABEL + left
    return " " * _LABEL + left + " " * gap + right


class JsonlWriter:
    """One JSON object per line, written as each point arrives."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def write(self, point: Point) -> None:
        self._out.write(jsonl_line(point))

    def close(self) -> None:
        self._out.flush()


class CsvWriter:
    """``time,value`` rows under a header; a null value is an empty field."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._csv = csv.writer(out, lineterminator="\n")
        self._csv.writerow(["time", "value"])

    def write(self, point: Point) -> None:
        self._csv.writerow([format_time(point.time), "" if point.value is None else point.value])

    def close(self) -> None:
        self._out.flush()


class JsonWriter:
    """One JSON document, streamed: the series' fields, then its points one per line."""

    def __init__(self, out: TextIO, info: SeriesInfo) -> None:
        self._out = out
        self._first = True
        header: dict[str, object] = {"app_id": info.app_id}
        if info.scope is not None:
            header[info.scope[0]] = info.scope[1]
        header |= {
            "metric": info.metric,
            "unit": info.unit.symbol,
            "step": format_step(info.step),
            "step_seconds": int(info.step.total_seconds()),
            "from": format_time(info.start),
            "to": format_time(info.end),
        }
        out.write(json.dumps(header)[:-1] + ', "points": [')

    def write(self, point: Point) -> None:
        separator = "\n  " if self._first else ",\n  "
        self._first = False
        self._out.write(separator + jsonl_line(point)[:-1])

    def close(self) -> None:
        self._out.write("]}\n" if self._first else "\n]}\n")
        self._out.flush()


class TableWriter:
    """A summary (count, min/mean/max, step, first/last time), a sparkline and the head/tail of
    the points as a table, rendered once the series is complete."""

    def __init__(self, console: Console, info: SeriesInfo) -> None:
        self._console = console
        width = max(20, min(console.width, 200) - _LABEL - 1)
        self._stats = SeriesStats(info, chart_width=width)

    def write(self, point: Point) -> None:
        self._stats.add(point)

    def close(self) -> None:
        render_table(self._console, self._stats)


def render_table(console: Console, stats: SeriesStats) -> None:
    """The summary (with units), an 8-line chart with a time axis, and the head and tail of the
    points."""
    info = stats.info
    unit = info.unit
    title = f"{info.title} · step {format_step(info.step)}"
    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="bold", no_wrap=True)
    summary.add_column(overflow="fold")
    summary.add_row("series", Text(title))
    summary.add_row("unit", f"{unit.symbol or '-'} ({unit.meaning})")
    summary.add_row("window", f"{format_time(info.start)} → {format_time(info.end)}")
    if stats.first is None or stats.last is None:
        summary.add_row("points", "0 (no data in this window)")
        console.print(summary)
        return
    nulls = f" ({stats.nulls} null)" if stats.nulls else ""
    summary.add_row("points", f"{stats.count:,}{nulls}")
    summary.add_row("first", format_time(stats.first.time))
    summary.add_row("last", format_time(stats.last.time))
    summary.add_row(
        "min/mean/max",
        " / ".join(format_value(v) for v in (stats.low, stats.mean, stats.high))
        + (f" {unit.symbol}" if unit.symbol else ""),
    )
    summary.add_row("trend", Text(stats.spark(), style="cyan"))
    console.print(summary)

    lines = chart_lines(stats.chart_values())
    if lines:
        console.print()
        heading = f"{info.metric} ({unit.symbol})" if unit.symbol else info.metric
        console.print(Text(" " * _LABEL + heading, style="bold"), soft_wrap=True)
        for line in lines:
            console.print(Text(line, style="cyan"), soft_wrap=True, highlight=False)
        console.print(
            time_axis(stats.first.time, stats.last.time, console.width),
            soft_wrap=True,
            highlight=False,
        )
        figures = "  ".join(
            f"{name} {with_unit(value, unit)}"
            for name, value in (
                ("avg", stats.mean),
                ("min", stats.low),
                ("max", stats.high),
                ("last", stats.last.value),
            )
        )
        console.print(" " * _LABEL + figures, soft_wrap=True, highlight=False)
        console.print()

    table = Table(show_edge=True, header_style="bold")
    table.add_column("time", no_wrap=True)
    table.add_column(
        f"value ({unit.symbol})" if unit.symbol else "value", justify="right", no_wrap=True
    )
    for point in stats.head:
        table.add_row(format_time(point.time), format_value(point.value))
    hidden = stats.count - len(stats.head) - len(stats.tail)
    if hidden > 0:
        table.add_row(Text(f"… {hidden:,} more", style="dim"), "")
    for point in stats.tail:
        table.add_row(format_time(point.time), format_value(point.value))
    console.print(table)


def make_writer(fmt: str, out: TextIO, info: SeriesInfo, console: Console) -> PointWriter:
    """The writer for ``fmt`` (one of ``FORMATS``); ``console`` renders the table to ``out``."""
    if fmt == "jsonl":
        return JsonlWriter(out)
    if fmt == "csv":
        return CsvWriter(out)
    if fmt == "json":
        return JsonWriter(out, info)
    if fmt == "table":
        return TableWriter(console, info)
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


_SUFFIX_FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def default_format(output: Path | None, *, stdout_is_terminal: bool) -> str:
    """``table`` on a terminal; for a file, what its suffix says (``.csv``, ``.json``,
    ``.jsonl``); ``jsonl`` otherwise, so pipes get one point per line."""
    if output is not None and str(output) != "-":
        return _SUFFIX_FORMATS.get(output.suffix.lower(), "jsonl")
    return "table" if stdout_is_terminal else "jsonl"


@contextlib.contextmanager
def open_output(path: Path | None) -> Iterator[TextIO]:
    """``sys.stdout``, or ``path`` written atomically.

    The points go to a hidden ``.NAME.PID.part`` next to ``path``, renamed over it once the
    series is complete and removed on failure: a file that exists holds a whole series. A path
    that is not a regular file (``/dev/null``, a FIFO, a terminal) is written in place: replacing
    it would put a plain file where a device was.
    """
    if path is None or str(path) == "-":
        yield sys.stdout
        return
    if path.exists() and not path.is_file():
        with path.open("w", encoding="utf-8", newline="") as out:
            yield out
        return
    directory = path.parent
    if not directory.is_dir():
        raise FileNotFoundError(2, "no such directory", str(directory))
    partial = directory / f".{path.name}.{os.getpid()}.part"
    try:
        with partial.open("w", encoding="utf-8", newline="") as out:
            yield out
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise


# --- the end of a backfill ------------------------------------------------------------------------

#: Past this many series the table lists only those not complete, and counts the others.
MAX_ROWS = 40

_STATUS_STYLE = {"ok": "green", "failed": "bold red", "skipped": "yellow"}


def error_text(error: ScoutError, secret: str | None) -> str:
    """What failed, without the stream's "resume there" (the job's checkpoint resumes it)."""
    where = f"{error.method} {error.path}: " if error.method and error.path else ""
    return scrub(f"{where}{error.message}", secret)


def _error(series: SeriesResult, secret: str | None) -> str:
    if series.error is not None:
        return error_text(series.error, secret)
    if series.status == "skipped":
        return "not finished: the job stopped"
    return ""


# The cells are made by _table; the columns say how each gives way.
_SUMMARY_COLUMNS = (
    Column("series", str, kind="text"),
    Column("status", str, kind="number"),
    Column("points", str, justify="right"),
    Column("chunks", str, justify="right"),
    Column("error", str, kind="text"),
)


def _table(result: BackfillResult, secret: str | None, width: int) -> Table:
    shown = result.series if len(result.series) <= MAX_ROWS else result.failed
    rows: list[list[RenderableType]] = [
        [
            Text(f"app {series.app_id} {series.metric}"),
            Text(series.status, style=_STATUS_STYLE.get(series.status, "")),
            f"{series.points:,}",
            f"{series.chunks:,}",
            Text(_error(series, secret)),
        ]
        for series in shown
    ]
    hidden = len(result.series) - len(shown)
    if hidden:
        rows.append([Text(f"… {hidden:,} more series, all ok", style="dim"), "", "", "", ""])
    return build_table(rows, _SUMMARY_COLUMNS, width)


def print_backfill_summary(
    console: Console,
    result: BackfillResult,
    *,
    seconds: float,
    stats: ClientStats,
    output: Path | str,
    kind: str,
    state: Path | str,
    resumed: bool,
    secret: str | None,
) -> None:
    """The table of series, then what the run did and where it went."""
    console.print(_table(result, secret, console.width))
    total = len(result.series)
    ok = total - len(result.failed)
    failed = sum(1 for s in result.series if s.status == "failed")
    skipped = total - ok - failed
    if result.ok:
        head = f"Backfill complete: {total:,} series"
    else:
        head = (
            f"Backfill incomplete: {ok:,} of {total:,} series ok, {failed} failed, "
            f"{skipped} skipped"
        )
    retried = f"{stats.retries:,} retried"
    if stats.rate_limited:
        retried += f" ({stats.rate_limited:,} after a 429)"
    lines = [
        f"{head}, {format_instant(result.start)} → {format_instant(result.end)} at "
        f"{format_step(result.step)}",
        f"  this run    {result.points:,} points in {result.chunks:,} chunks, {seconds:.1f} s",
        f"  requests    {stats.requests:,} sent, {retried}",
        f"  output      {output} ({kind})",
        f"  checkpoint  {state}" + (" (resumed from it)" if resumed else ""),
    ]
    if result.stopped is not None:
        lines.append(f"  stopped     {scrub(result.stopped, secret)}")
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)
