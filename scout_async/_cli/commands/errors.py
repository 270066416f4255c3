"""``errors`` and ``error``: an app's error groups, and one group with its latest errors."""

from __future__ import annotations

from datetime import timedelta

import click
from rich.console import RenderableType
from rich.text import Text

from ..._client import ScoutClient
from ..._exceptions import ArgumentError
from ...types._models import ErrorGroup, ErrorOccurrence
from ..context import Settings, choose_format, pass_settings, run_with_client
from ..options import (
    APP_ARGUMENT,
    TIME,
    app_and,
    app_option,
    clamp_option,
    endpoint_ref,
    format_option,
    limit_option,
    listing_limit,
    lookback_refused,
    lookback_window,
    resolve_app,
    to_option,
)
from ..render import (
    Column,
    facts_table,
    listing_console,
    print_json,
    print_listing,
    print_table,
    table_time,
    when,
)
from ..times import TIME_HELP, TimeSpec

__all__ = ["error", "errors"]

_BACKTRACE = 12  # lines of the latest error's backtrace shown

LOOKBACK = timedelta(days=30)

GROUP_COLUMNS = (
    Column("id", lambda g: str(g.id), kind="number"),
    Column("error", lambda g: g.name or "-", kind="text"),
    Column("message", lambda g: g.message or "-", kind="text"),
    Column("status", lambda g: g.status or "-", kind="text"),
    Column(
        "count", lambda g: "-" if g.errors_count is None else f"{g.errors_count:,}", justify="right"
    ),
    Column("last error (UTC)", lambda g: table_time(g.last_error_at), kind="time"),
)

OCCURRENCE_COLUMNS = (
    Column("time (UTC)", lambda e: table_time(e.created_at), kind="time"),
    Column("id", lambda e: str(e.id), kind="number"),
    Column("request", lambda e: e.request_uri or "-", kind="text"),
    Column("location", lambda e: e.location or "-", kind="text"),
)


@click.command()
@APP_ARGUMENT
@app_option
@click.option(
    "--from",
    "start",
    type=TIME,
    default=None,
    help="Window start: groups with errors from then on. Scout serves the last 30 days; a "
    f"relative --from up to 30d is clamped to that.  [default: 30d] {TIME_HELP}",
)
@to_option
@click.option(
    "--endpoint",
    metavar="ID",
    default=None,
    help="Only the groups of one endpoint: its id from `endpoints` (or its name).",
)
@clamp_option("30 days")
@format_option("table", "json")
@limit_option
@pass_settings
def errors(
    settings: Settings,
    app_id: int | None,
    start: TimeSpec | None,
    end: TimeSpec,
    endpoint: str | None,
    clamp: bool,
    fmt: str | None,
) -> None:
    """List APP's error groups with errors in the window, most recent first.

    Show one group, its latest error's backtrace and its recent errors with `error APP ID`.

    \b
    scout-async errors 101
    scout-async errors 101 --from 7d --endpoint YXBpL21ldHJpY3Mvc2hvdw==
    """
    app = resolve_app(settings, app_id)
    start_at, end_at, clamp = lookback_window(
        settings,
        start,
        end,
        limit=LOOKBACK,
        limit_text="30 days",
        what="error groups",
        clamp=clamp,
    )
    scoped = None if endpoint is None else endpoint_ref(endpoint)
    try:
        found = run_with_client(
            settings,
            lambda client: client.errors.list(
                app, start=start_at, end=end_at, endpoint=scoped, clamp=clamp
            ),
        )
    except ArgumentError as exc:
        raise lookback_refused(exc) from None
    print_listing(
        found,
        GROUP_COLUMNS,
        fmt=choose_format(fmt, settings, "table"),
        empty="no errors in this window",
        limit=listing_limit(settings),
    )


def _print_group(group: ErrorGroup, recent: list[ErrorOccurrence]) -> None:
    console = listing_console()
    rows: list[tuple[str, RenderableType]] = [
        ("error group", str(group.id)),
        ("error", group.name or "-"),
        ("message", group.message or "-"),
        ("status", group.status or "-"),
        ("count", "-" if group.errors_count is None else f"{group.errors_count:,}"),
        ("last error", when(group.last_error_at)),
        ("request", group.request_uri or "-"),
        ("environment", group.app_environment or "-"),
    ]
    latest = group.latest_error
    if latest is not None:
        rows.append(("location", latest.location or "-"))
        lines = latest.trace[:_BACKTRACE]
        more = len(latest.trace) - len(lines)
        backtrace = Text("\n".join(lines) or "-", style="cyan")
        if more > 0:
            backtrace.append(f"\n… {more} more lines", style="dim")
        rows.append(("backtrace", backtrace))
    facts = facts_table(rows)
    console.print(facts)
    if recent:
        console.print(Text("most recent errors", style="bold"))
    print_table(recent, OCCURRENCE_COLUMNS, empty="no recent errors listed for this group")


@click.command()
@click.argument("first", metavar="[APP]", required=False)
@click.argument("second", metavar="ERROR_ID", required=False)
@format_option("text", "json")
@pass_settings
def error(settings: Settings, first: str | None, second: str | None, fmt: str | None) -> None:
    """Show one error group of APP: what, where, its latest error's backtrace, and its most
    recent errors (at most 100).

    ERROR_ID is the id column of `errors`.

    \b
    scout-async error 101 1010009
    scout-async error 101 1010009 --format json | jq '.errors[0].trace'
    """
    app_id, given = app_and(settings, first, second, "ERROR_ID", numeric=True)
    error_id = int(click.IntRange(min=1).convert(given, None, click.get_current_context()))  # type: ignore[arg-type]

    async def work(client: ScoutClient) -> tuple[ErrorGroup, list[ErrorOccurrence]]:
        group = await client.errors.get(app_id, error_id)  # a 404 says "no such group" first
        return group, await client.errors.list_errors(app_id, error_id)

    group, recent = run_with_client(settings, work)
    if choose_format(fmt, settings, "text") == "json":
        print_json({"error_group": group, "errors": recent})
    else:
        _print_group(group, recent)
