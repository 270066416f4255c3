"""``endpoints``: an app's endpoints with their figures."""

from __future__ import annotations

import contextlib

import click

from ..._client import ScoutClient
from ..._resources.endpoints import ENDPOINT_SORT_KEYS
from ...types._models import Endpoint
from ..context import Settings, pass_settings, run_with_client
from ..options import format_option, window, window_options
from ..render import Column, number, percent, print_json, print_table
from ..times import TimeSpec

__all__ = ["endpoints"]

_PAGE = 50

ENDPOINT_COLUMNS = (
    Column("endpoint", lambda e: e.name),
    Column("id", lambda e: e.id, no_wrap=True),
    Column("resp ms", lambda e: number(e.response_time), justify="right"),
    Column("p95 ms", lambda e: number(e.p95), justify="right"),
    Column("rpm", lambda e: number(e.throughput), justify="right"),
    Column("errors", lambda e: percent(e.error_rate), justify="right"),
    Column("% time", lambda e: number(e.percentage_of_total), justify="right"),
)


@click.command()
@click.argument("app_id", metavar="APP", type=click.IntRange(min=1))
@window_options("1d", "the figures cover --from to --to, at most 14 days")
@click.option(
    "--sort-by",
    type=click.Choice(ENDPOINT_SORT_KEYS),
    default=None,
    help="Largest first by this figure (Scout sorts).  [default: Scout's order]",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Show the first N endpoints only.",
)
@format_option("table", "json")
@pass_settings
def endpoints(
    settings: Settings,
    app_id: int,
    start: TimeSpec,
    end: TimeSpec,
    sort_by: str | None,
    limit: int | None,
    fmt: str,
) -> None:
    """List APP's endpoints: response time, 95th percentile, throughput, error rate, share of
    time. The id column is what `traces`, `errors --endpoint` and `fetch --endpoint` take.

    \b
    scout-async endpoints 101
    scout-async endpoints 101 --from 7d --sort-by response_time --limit 10
    scout-async endpoints 101 --format json | jq -r '.[].id'
    """
    start_at, end_at = window(start, end, settings.now())

    async def work(client: ScoutClient) -> list[Endpoint]:
        found: list[Endpoint] = []
        page = min(limit or _PAGE, _PAGE)
        pages = client.endpoints.iter(
            app_id, start=start_at, end=end_at, sort_by=sort_by, limit=page
        )
        async with contextlib.aclosing(pages):
            async for endpoint in pages:
                found.append(endpoint)
                if limit is not None and len(found) >= limit:
                    break
        return found

    found = run_with_client(settings, work)
    if fmt == "json":
        print_json(found)
    else:
        print_table(found, ENDPOINT_COLUMNS, empty="no endpoints reported in this window")
