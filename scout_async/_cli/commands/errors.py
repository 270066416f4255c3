"""``errors`` and ``error``: an app's error groups, and one group with its latest errors."""

from __future__ import annotations

import click
from rich.console import RenderableType
from rich.text import Text

from ..._client import ScoutClient
from ..._exceptions import ArgumentError
from ...types._models import ErrorGroup, ErrorOccurrence
from ..context import Settings, pass_settings, run_with_client
from ..options import clamp_option, format_option, lookback_refused, window, window_options
from ..render import Column, facts_table, listing_console, print_json, print_table, when
from ..times import TimeSpec

__all__ = ["error", "errors"]

_BACKTRACE = 12  # lines of the latest error's backtrace shown

GROUP_COLUMNS = (
    Column("id", lambda g: str(g.id), no_wrap=True),
    Column("error", lambda g: g.name or "-"),
    Column("message", lambda g: g.message or "-"),
    Column("status", lambda g: g.status or "-"),
    Column(
        "count", lambda g: "-" if g.errors_count is None else f"{g.errors_count:,}", justify="right"
    ),
    Column("last error", lambda g: when(g.last_error_at), no_wrap=True),
)

OCCURRENCE_COLUMNS = (
    Column("time", lambda e: when(e.created_at), no_wrap=True),
    Column("id", lambda e: str(e.id), no_wrap=True),
    Column("request", lambda e: e.request_uri or "-"),
    Column("location", lambda e: e.location or "-"),
)


@click.command()
@click.argument("app_id", metavar="APP", type=click.IntRange(min=1))
@window_options("7d", "groups with errors from then on (Scout keeps 30 days)")
@click.option(
    "--endpoint",
    metavar="ID",
    default=None,
    help="Only the groups of one endpoint or job: its id from `endpoints` or `jobs`.",
)
@clamp_option("30 days")
@format_option("table", "json")
@pass_settings
def errors(
    settings: Settings,
    app_id: int,
    start: TimeSpec,
    end: TimeSpec,
    endpoint: str | None,
    clamp: bool,
    fmt: str,
) -> None:
    """List APP's error groups with errors in the window, most recent first.

    Show one group, its latest error's backtrace and its recent errors with `error APP ID`.

    \b
    scout-async errors 101
    scout-async errors 101 --from 30d --clamp --endpoint YXBpL21ldHJpY3Mvc2hvdw==
    """
    start_at, end_at = window(start, end, settings.now())
    try:
        found = run_with_client(
            settings,
            lambda client: client.errors.list(
                app_id, start=start_at, end=end_at, endpoint=endpoint, clamp=clamp
            ),
        )
    except ArgumentError as exc:
        raise lookback_refused(exc) from None
    if fmt == "json":
        print_json(found)
    else:
        print_table(found, GROUP_COLUMNS, empty="no errors in this window")


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
@click.argument("app_id", metavar="APP", type=click.IntRange(min=1))
@click.argument("error_id", metavar="ERROR_ID", type=click.IntRange(min=1))
@format_option("text", "json")
@pass_settings
def error(settings: Settings, app_id: int, error_id: int, fmt: str) -> None:
    """Show one error group of APP: what, where, its latest error's backtrace, and its most
    recent errors (at most 100).

    ERROR_ID is the id column of `errors`.

    \b
    scout-async error 101 1010009
    scout-async error 101 1010009 --format json | jq '.errors[0].trace'
    """

    async def work(client: ScoutClient) -> tuple[ErrorGroup, list[ErrorOccurrence]]:
        group = await client.errors.get(app_id, error_id)  # a 404 says "no such group" first
        return group, await client.errors.list_errors(app_id, error_id)

    group, recent = run_with_client(settings, work)
    if fmt == "json":
        print_json({"error_group": group, "errors": recent})
    else:
        _print_group(group, recent)
