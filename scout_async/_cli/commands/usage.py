"""``usage``: the organization's usage in the current billing period; with ``--by-day`` or
``--by-app``, web transactions counted from each app's throughput (requests per minute times the
step), per UTC day and/or per app, as Scout's Go CLI counts them."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from datetime import datetime

import anyio
import click
from rich.console import RenderableType

from ..._client import ScoutClient
from ..._series.planner import plan_range
from ...types._models import Usage
from ..context import Settings, choose_format, pass_settings, run_with_client, stderr_console
from ..options import TIME, format_option, limit_option, listing_limit, window
from ..progress import heartbeat, make_progress
from ..render import Column, facts_table, listing_console, print_json, print_listing, when
from ..stop import run_loop
from ..times import TIME_HELP, TimeSpec, parse_time_spec

__all__ = ["usage"]


def _of(used: int | None, limit: int | None, unit: str = "") -> str:
    if used is None:
        return "-"
    text = f"{used:,}{unit}"
    if limit:
        text += f" of {limit:,}{unit} ({used / limit:.0%})"
    return text


def _gigabytes(count: int | None) -> int | None:
    return None if count is None else round(count / 1e9)


def _print_usage(found: Usage) -> None:
    rows: list[tuple[str, RenderableType]] = []
    period = found.billing_period
    if period is not None:
        rows.append(("billing period", f"{when(period.start)} → {when(period.end)}"))
    rows.append(("pricing", found.pricing_style or "-"))
    if found.apm is not None:
        rows.append(("APM transactions", _of(found.apm.total_transactions, found.apm.limit)))
    if found.nodes is not None:
        count = found.nodes.active_count
        rows.append(("active nodes", "-" if count is None else f"{count:,}"))
    if found.errors is not None:
        rows.append(("errors", _of(found.errors.count, found.errors.limit)))
    if found.logs is not None:
        used, limit = _gigabytes(found.logs.bytes_used), _gigabytes(found.logs.limit_bytes)
        rows.append(("logs", _of(used, limit, " GB")))
    listing_console().print(facts_table(rows))


Key = tuple[str, int]  # (UTC day, app id)


async def _transactions(
    settings: Settings, start: datetime, end: datetime
) -> tuple[dict[Key, float], dict[int, str]]:
    """Web transactions per (day, app): each throughput point (rpm) times its step in minutes."""
    counts: dict[Key, float] = defaultdict(float)
    console = stderr_console()
    async with settings.client() as client:
        apps = {app.id: app.name for app in await client.apps.list()}
        with (
            make_progress(console, transient=True) as progress,
            heartbeat(progress, console, settings.heartbeat, name="usage"),
        ):
            task = progress.add_task("throughput", total=len(apps), unit="apps")

            minutes = plan_range(start, end, None)[0].step.total_seconds() / 60

            async def one(app_id: int, client: ScoutClient) -> None:
                stream = client.metrics.stream(app_id, "throughput", start=start, end=end)
                async with contextlib.aclosing(stream):
                    async for point in stream:
                        if point.value is not None:
                            day = point.time.strftime("%Y-%m-%d")
                            counts[(day, app_id)] += point.value * minutes
                progress.advance(task)

            async with anyio.create_task_group() as tg:
                for app_id in apps:
                    tg.start_soon(one, app_id, client)
    return counts, apps


@click.command()
@click.option(
    "--by-day",
    is_flag=True,
    help="Web transactions per UTC day (all apps, or per app with --by-app), counted from "
    "throughput.",
)
@click.option("--by-app", is_flag=True, help="Web transactions per app (per day with --by-day).")
@click.option(
    "--from",
    "start",
    type=TIME,
    default=None,
    help=f"With --by-day/--by-app: the window start.  [default: 30d, what Scout keeps] {TIME_HELP}",
)
@click.option(
    "--to",
    "end",
    type=TIME,
    default=None,
    help="With --by-day/--by-app: the window end (exclusive).  [default: now]",
)
@format_option("table", "json")
@limit_option
@pass_settings
def usage(
    settings: Settings,
    by_day: bool,
    by_app: bool,
    start: TimeSpec | None,
    end: TimeSpec | None,
    fmt: str | None,
) -> None:
    """Show the organization's usage in the current billing period: APM transactions, nodes,
    errors and log volume, against the plan's limits. With --by-day and/or --by-app: web
    transactions (requests; background jobs not included) counted from each app's throughput.

    \b
    scout-async usage
    scout-async usage --by-day
    scout-async usage --by-app --from 7d
    scout-async usage --by-day --by-app --json
    """
    chosen = choose_format(fmt, settings, "table")
    if not (by_day or by_app):
        if start is not None or end is not None:
            raise click.UsageError("--from/--to select the --by-day/--by-app window: add one")
        found = run_with_client(settings, lambda client: client.usage.get())
        if chosen == "json":
            print_json(found)
        else:
            _print_usage(found)
        return
    start_at, end_at = window(
        start or parse_time_spec("30d"), end or parse_time_spec("now"), settings.now()
    )
    settings.require_key()
    counts, names = run_loop(lambda: _transactions(settings, start_at, end_at))
    rows: dict[tuple[str, int], float] = defaultdict(float)
    for (day, app_id), value in counts.items():
        rows[(day if by_day else "", app_id if by_app else 0)] += value
    total = sum(rows.values()) or 1.0
    records = [
        {
            **({"date": day} if by_day else {}),
            **({"app_id": app_id, "app_name": names.get(app_id, "")} if by_app else {}),
            "transactions": round(value),
            "share": round(value / total, 4),
        }
        for (day, app_id), value in sorted(
            rows.items(), key=lambda kv: (kv[0][0], -kv[1]) if by_day else (-kv[1], kv[0][1])
        )
    ]
    columns = [
        *([Column("day (UTC)", lambda r: r["date"], kind="number")] if by_day else []),
        *(
            [
                Column("app", lambda r: str(r["app_id"]), justify="right"),
                Column("name", lambda r: r["app_name"], kind="text"),
            ]
            if by_app
            else []
        ),
        Column("transactions", lambda r: f"{r['transactions']:,}", justify="right"),
        Column("% of total", lambda r: f"{r['share']:.1%}", justify="right"),
    ]
    print_listing(
        records,
        columns,
        fmt=chosen,
        empty="no throughput in this window",
        limit=listing_limit(settings),
        units={"transactions": "requests", "share": "fraction"},
    )
    if chosen != "json":
        stderr_console().print(
            f"Total: {round(sum(rows.values())):,} web transactions, "
            f"{when(start_at)} → {when(end_at)}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
