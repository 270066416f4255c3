"""The end of a backfill on the terminal: a table of its series and a few lines of totals."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .._exceptions import ScoutError
from .._report import BackfillResult, SeriesResult
from .._steps import format_step
from .._transport import TransportStats
from ._context import scrub
from ._times import format_instant

__all__ = ["MAX_ROWS", "error_text", "print_backfill_summary"]

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


def _table(result: BackfillResult, secret: str | None) -> Table:
    table = Table(header_style="bold")
    table.add_column("series")
    table.add_column("status")
    table.add_column("points", justify="right")
    table.add_column("chunks", justify="right")
    table.add_column("error")
    shown = result.series if len(result.series) <= MAX_ROWS else result.failed
    for series in shown:
        table.add_row(
            Text(f"app {series.app_id} {series.metric}"),
            Text(series.status, style=_STATUS_STYLE.get(series.status, "")),
            f"{series.points:,}",
            f"{series.chunks:,}",
            Text(_error(series, secret)),
        )
    hidden = len(result.series) - len(shown)
    if hidden:
        table.add_row(Text(f"… {hidden:,} more series, all ok", style="dim"), "", "", "", "")
    return table


def print_backfill_summary(
    console: Console,
    result: BackfillResult,
    *,
    seconds: float,
    stats: TransportStats,
    output: Path,
    kind: str,
    state: Path,
    resumed: bool,
    secret: str | None,
) -> None:
    """The table of series, then what the run did and where it went."""
    console.print(_table(result, secret))
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
