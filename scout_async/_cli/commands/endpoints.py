"""``endpoints``: an app's endpoints with their figures."""

from __future__ import annotations

import contextlib

import click

from ..._client import ScoutClient
from ..._exceptions import ArgumentError
from ..._resources.endpoints import ENDPOINT_SORT_KEYS
from ...types._models import Endpoint
from ..context import Settings, choose_format, pass_settings, run_with_client
from ..options import (
    APP_ARGUMENT,
    app_option,
    format_option,
    listing_limit,
    resolve_app,
    window,
    window_options,
)
from ..render import Column, percent, print_listing
from ..times import TimeSpec
from ..units import ENDPOINT_UNITS, with_unit

__all__ = ["endpoints"]

_PAGE = 50

ENDPOINT_COLUMNS = (
    Column("endpoint", lambda e: e.name, kind="text"),
    Column("id", lambda e: e.id, kind="id"),
    Column("resp ms", lambda e: with_unit(e.response_time, "", 1), justify="right"),
    Column("p95 ms", lambda e: with_unit(e.p95, "", 1), justify="right"),
    Column("rpm", lambda e: with_unit(e.throughput, "", 1), justify="right"),
    Column("errors", lambda e: percent(e.error_rate), justify="right"),
    Column("% time", lambda e: with_unit(e.percentage_of_total, "", 1), justify="right"),
)


@click.command()
@APP_ARGUMENT
@app_option
@window_options("1d", "the figures cover --from to --to, at most 14 days")
@click.option(
    "--sort-by",
    type=click.Choice(ENDPOINT_SORT_KEYS),
    default=None,
    help="Largest first by this figure (Scout sorts).  [default: Scout's order]",
)
@click.option(
    "-n",
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help='Show the first N endpoints only ("Showing N of M" on stderr).',
)
@format_option("table", "json")
@pass_settings
def endpoints(
    settings: Settings,
    app_id: int | None,
    start: TimeSpec,
    end: TimeSpec,
    sort_by: str | None,
    limit: int | None,
    fmt: str | None,
) -> None:
    """List APP's endpoints: response time and 95th percentile (ms), throughput (requests per
    minute), error rate, share of time. `traces`, `errors --endpoint` and `fetch --endpoint`
    take the id column (in full in --json) or the endpoint's name.

    \b
    scout-async endpoints 101
    scout-async endpoints 101 --from 7d --sort-by response_time -n 10
    scout-async endpoints 101 --json | jq -r '.[].id'
    """
    app = resolve_app(settings, app_id)
    start_at, end_at = window(start, end, settings.now())

    async def work(client: ScoutClient) -> list[Endpoint]:
        found: list[Endpoint] = []
        pages = client.endpoints.iter(app, start=start_at, end=end_at, sort_by=sort_by, limit=_PAGE)
        async with contextlib.aclosing(pages):
            async for endpoint in pages:
                found.append(endpoint)
        return found

    try:
        found = run_with_client(settings, work)
    except ArgumentError as exc:
        if "14 days" not in str(exc):
            raise
        raise click.UsageError(
            f"Scout summarizes endpoints over at most 14 days, and --from {start.text} --to "
            f"{end.text} is longer: pass --from 14d or less"
        ) from None
    print_listing(
        found,
        ENDPOINT_COLUMNS,
        fmt=choose_format(fmt, settings, "table"),
        empty="no endpoints reported in this window",
        limit=limit if limit is not None else listing_limit(settings),
        units=ENDPOINT_UNITS,
    )
