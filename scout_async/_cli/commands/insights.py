"""``insights``: N+1 queries, memory bloat and slow queries, now or as first seen over time."""

from __future__ import annotations

import contextlib
from datetime import datetime

import click
from rich.text import Text

from ..._client import ScoutClient
from ..._resources.insights import INSIGHT_TYPES
from ...types._models import Insight, InsightGroup, InsightsOverview
from ..context import Settings, choose_format, pass_settings, run_with_client
from ..options import APP_ARGUMENT, TIME, app_option, format_option, resolve_app, window
from ..render import (
    Column,
    listing_console,
    print_json,
    print_listing,
    print_table,
    table_time,
)
from ..times import TIME_HELP, TimeSpec, format_instant, parse_time_spec

__all__ = ["insights"]

_DETAILS = 120  # characters of an insight's facts shown in a table cell


def _details(insight: Insight) -> str:
    text = ", ".join(
        f"{key}={' '.join(str(value).split())}" for key, value in insight.fields.items()
    )
    return text if len(text) <= _DETAILS else text[: _DETAILS - 1] + "…"


def _new(insight: Insight) -> Text | str:
    return Text("new", style="bold") if insight.new else ""


CURRENT_COLUMNS = (
    Column("type", lambda i: i.insight_type or "-", kind="text"),
    Column("where", lambda i: i.name or i.metric_name or "-", kind="text"),
    Column("first seen (UTC)", lambda i: table_time(i.first_seen_at), kind="time"),
    Column("", _new, kind="text"),
    Column("details", _details, kind="text"),
)

HISTORY_COLUMNS = (
    Column("first seen (UTC)", lambda i: table_time(i.first_seen_at), kind="time"),
    Column("type", lambda i: i.insight_type or "-", kind="text"),
    Column("where", lambda i: i.metric_name or i.name or "-", kind="text"),
    Column("details", _details, kind="text"),
    Column("trace", lambda i: "-" if i.trace is None else str(i.trace.id), kind="number"),
)


def _counts(groups: dict[str, InsightGroup]) -> str:
    parts = []
    for kind, group in groups.items():
        new = f" ({group.new_count} new)" if group.new_count else ""
        parts.append(f"{kind}: {'-' if group.count is None else group.count}{new}")
    return " · ".join(parts)


def _print_current(groups: dict[str, InsightGroup], limit: int | None) -> None:
    timeframe = next((g.timeframe for g in groups.values() if g.timeframe is not None), None)
    heading = _counts(groups)
    if timeframe is not None and timeframe.start_time and timeframe.end_time:
        heading += (
            f"  [{format_instant(timeframe.start_time)} → {format_instant(timeframe.end_time)}]"
        )
    listing_console().print(heading, markup=False, highlight=False, soft_wrap=True)
    items = [item for group in groups.values() for item in group.items]
    print_table(items, CURRENT_COLUMNS, empty="no current insights", limit=limit)


@click.command()
@APP_ARGUMENT
@app_option
@click.option(
    "--type",
    "kind",
    type=click.Choice(INSIGHT_TYPES),
    default=None,
    help="One type of insight only.  [default: every type]",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    metavar="N",
    help="At most N items per type (current insights), or in all (--history).",
)
@click.option(
    "--history",
    is_flag=True,
    help="Insights first seen from --from to --to, newest first, instead of the current ones.",
)
@click.option(
    "--from",
    "start",
    type=TIME,
    default=None,
    help=f"With --history: the window start.  [default: 7d] {TIME_HELP}",
)
@click.option(
    "--to",
    "end",
    type=TIME,
    default=None,
    help="With --history: the window end (exclusive).  [default: now]",
)
@format_option("table", "json")
@pass_settings
def insights(
    settings: Settings,
    app_id: int | None,
    kind: str | None,
    limit: int,
    history: bool,
    start: TimeSpec | None,
    end: TimeSpec | None,
    fmt: str | None,
) -> None:
    """List APP's insights: N+1 queries, memory bloat and slow queries, with where they happen
    and their facts (the SQL, call counts, allocations).

    \b
    scout-async insights 101
    scout-async insights 101 --type slow_query --limit 5
    scout-async insights 101 --history --from 14d --type n_plus_one --format json
    """
    if not history and (start is not None or end is not None):
        raise click.UsageError("--from/--to select the --history window: add --history")
    app = resolve_app(settings, app_id)
    chosen = choose_format(fmt, settings, "table")
    if not history:
        current = run_with_client(settings, lambda client: _current(client, app, kind, limit))
        if chosen == "json":
            print_json(current)
        elif isinstance(current, InsightsOverview):
            _print_current(current.groups, settings.limit)
        else:
            _print_current({current.insight_type or str(kind): current}, settings.limit)
        return
    start_at, end_at = window(
        start or parse_time_spec("7d"), end or parse_time_spec("now"), settings.now()
    )
    found = run_with_client(
        settings, lambda client: _history(client, app, kind, limit, start_at, end_at)
    )
    print_listing(
        found,
        HISTORY_COLUMNS,
        fmt=chosen,
        empty="no insights first seen in this window",
        limit=settings.limit,
    )


async def _current(
    client: ScoutClient, app_id: int, kind: str | None, limit: int
) -> InsightsOverview | InsightGroup:
    if kind is None:
        return await client.insights.list(app_id, limit=limit)
    return await client.insights.get(app_id, kind, limit=limit)


async def _history(
    client: ScoutClient,
    app_id: int,
    kind: str | None,
    limit: int,
    start: datetime,
    end: datetime,
) -> list[Insight]:
    found: list[Insight] = []
    pages = client.insights.history(app_id, start=start, end=end, type=kind, limit=min(limit, 20))
    async with contextlib.aclosing(pages):
        async for insight in pages:
            found.append(insight)
            if len(found) >= limit:
                break
    return found
