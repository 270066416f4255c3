"""``jobs``: an app's background jobs with their figures."""

from __future__ import annotations

import click

from ..context import Settings, pass_settings, run_with_client
from ..options import format_option, window, window_options
from ..render import Column, number, percent, print_json, print_table
from ..times import TimeSpec

__all__ = ["jobs"]

JOB_COLUMNS = (
    Column("job", lambda j: j.full_name),
    Column("id", lambda j: j.id, no_wrap=True),
    Column("per min", lambda j: number(j.throughput), justify="right"),
    Column("exec ms", lambda j: number(j.execution_time), justify="right"),
    Column("latency s", lambda j: number(j.latency, 2), justify="right"),
    Column("% time", lambda j: percent(j.time_consumed, 1), justify="right"),
)


@click.command()
@click.argument("app_id", metavar="APP", type=click.IntRange(min=1))
@window_options("1d", "the figures cover --from to --to, at most 14 days")
@format_option("table", "json")
@pass_settings
def jobs(settings: Settings, app_id: int, start: TimeSpec, end: TimeSpec, fmt: str) -> None:
    """List APP's background jobs: throughput, execution time, queue latency, share of time.
    The id column is what `fetch --job` and `traces --job` take.

    \b
    scout-async jobs 101
    scout-async jobs 101 --from 7d --format json
    """
    start_at, end_at = window(start, end, settings.now())
    found = run_with_client(
        settings, lambda client: client.jobs.list(app_id, start=start_at, end=end_at)
    )
    if fmt == "json":
        print_json(found)
    else:
        print_table(found, JOB_COLUMNS, empty="no background jobs reported in this window")
