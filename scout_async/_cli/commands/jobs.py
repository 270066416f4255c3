"""``jobs``: an app's background jobs with their figures."""

from __future__ import annotations

import click

from ..context import Settings, choose_format, pass_settings, run_with_client
from ..options import (
    APP_ARGUMENT,
    app_option,
    format_option,
    limit_option,
    listing_limit,
    resolve_app,
    window,
    window_options,
)
from ..render import Column, percent, print_listing
from ..times import TimeSpec
from ..units import JOB_UNITS, with_unit

__all__ = ["jobs"]

JOB_COLUMNS = (
    Column("job (queue/name)", lambda j: j.full_name, kind="text"),
    Column("id", lambda j: j.id, kind="id"),
    Column("jobs/min", lambda j: with_unit(j.throughput, "", 1), justify="right"),
    Column("exec ms", lambda j: with_unit(j.execution_time, "", 1), justify="right"),
    Column("latency s", lambda j: with_unit(j.latency, "", 2), justify="right"),
    Column("% time", lambda j: percent(j.time_consumed, 1), justify="right"),
)


@click.command()
@APP_ARGUMENT
@app_option
@window_options("1d", "the figures cover --from to --to, at most 14 days")
@format_option("table", "json")
@limit_option
@pass_settings
def jobs(
    settings: Settings, app_id: int | None, start: TimeSpec, end: TimeSpec, fmt: str | None
) -> None:
    """List APP's background jobs: throughput (jobs per minute), execution time (ms), queue
    latency (s), share of job time. `fetch --job` and `traces --job` take the id column (in full
    in --json) or the job's queue/name.

    \b
    scout-async jobs 101
    scout-async jobs 101 --from 7d --json
    """
    app = resolve_app(settings, app_id)
    start_at, end_at = window(start, end, settings.now())
    found = run_with_client(
        settings, lambda client: client.jobs.list(app, start=start_at, end=end_at)
    )
    print_listing(
        found,
        JOB_COLUMNS,
        fmt=choose_format(fmt, settings, "table"),
        empty="no background jobs reported in this window",
        limit=listing_limit(settings),
        units=JOB_UNITS,
    )
