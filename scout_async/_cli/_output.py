"""Output formats of a fetched series (table, jsonl, csv, json) and the terminal sparkline.

Every writer takes points one at a time and keeps only a bounded amount of them (the table keeps a
head, a tail and one running mean per sparkline column), so a month at one minute streams through
in constant memory.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import sys
from collections import deque
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol, TextIO

import attrs
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .._constants import TIME_FORMAT
from .._models import Point
from .._steps import format_step

__all__ = [
    "FORMATS",
    "PointWriter",
    "SeriesInfo",
    "SeriesStats",
    "default_format",
    "format_value",
    "jsonl_line",
    "make_writer",
    "open_output",
    "sparkline",
]

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

    @property
    def title(self) -> str:
        """``app 101 · response_time``, with ``endpoint ID``/``job ID`` between them."""
        where = "" if self.scope is None else f" · {self.scope[0][:-3]} {self.scope[1]}"
        return f"app {self.app_id}{where} · {self.metric}"


class PointWriter(Protocol):
    def write(self, point: Point) -> None: ...

    def close(self) -> None:
        """Finish the output (closing brackets, the table); the stream itself stays open."""


def format_time(moment: datetime) -> str:
    return moment.strftime(TIME_FORMAT)


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


class SeriesStats:
    """Running count, min/mean/max, first/last time, head/tail and sparkline columns."""

    def __init__(self, info: SeriesInfo, *, width: int = SPARK_WIDTH, keep: int = HEAD_TAIL):
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
        self._columns = max(1, min(width, info.buckets))
        self._sums = [0.0] * self._columns
        self._counts = [0] * self._columns

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
        index = (point.time - self.info.origin) // self.info.step
        column = min(self._columns - 1, max(0, index * self._columns // max(1, self.info.buckets)))
        self._sums[column] += value
        self._counts[column] += 1

    @property
    def mean(self) -> float | None:
        known = self.count - self.nulls
        return self.total / known if known else None

    def spark(self) -> str:
        means = [s / n if n else None for s, n in zip(self._sums, self._counts, strict=True)]
        return sparkline(means)


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
        self._stats = SeriesStats(info)

    def write(self, point: Point) -> None:
        self._stats.add(point)

    def close(self) -> None:
        render_table(self._console, self._stats)


def render_table(console: Console, stats: SeriesStats) -> None:
    info = stats.info
    title = f"{info.title} · step {format_step(info.step)}"
    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="bold")
    summary.add_column()
    summary.add_row("series", Text(title))
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
        " / ".join(format_value(v) for v in (stats.low, stats.mean, stats.high)),
    )
    summary.add_row("trend", Text(stats.spark(), style="cyan"))
    console.print(summary)

    table = Table(show_edge=True, header_style="bold")
    table.add_column("time")
    table.add_column("value", justify="right")
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
    series is complete and removed on failure: a file that exists holds a whole series.
    """
    if path is None or str(path) == "-":
        yield sys.stdout
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
