"""``anomalies``: the anomaly events Scout detected on an app's metrics."""

from __future__ import annotations

import click
from rich.text import Text

from ..._exceptions import ArgumentError
from ..._resources.anomalies import ANOMALY_STATES
from ...types._models import AnomalyEvent
from ..context import Settings, pass_settings, run_with_client
from ..options import clamp_option, format_option, lookback_refused, window, window_options
from ..render import Column, print_json, print_table, when
from ..times import TimeSpec

__all__ = ["anomalies"]

_SEVERITY_STYLE = {"critical": "bold red", "warning": "yellow"}


def _ended(event: AnomalyEvent) -> Text | str:
    if event.ended_at is None:
        return Text("open", style="bold")
    return when(event.ended_at)


def _value(event: AnomalyEvent) -> str:
    if event.current_value is None:
        return "-"
    baseline = "-" if event.baseline_value is None else f"{event.baseline_value:,.4g}"
    text = f"{event.current_value:,.4g} vs {baseline}"
    if event.multiplier is not None:
        text += f" ({event.multiplier:g}x)"
    return text


ANOMALY_COLUMNS = (
    Column("id", lambda e: str(e.id), no_wrap=True),
    Column("started", lambda e: when(e.started_at), no_wrap=True),
    Column("ended", _ended, no_wrap=True),
    Column("metric", lambda e: e.metric or "-"),
    Column("endpoint", lambda e: e.endpoint or "(app)"),
    Column(
        "severity",
        lambda e: Text(e.severity or "-", style=_SEVERITY_STYLE.get(e.severity or "", "")),
    ),
    Column("direction", lambda e: e.direction or "-"),
    Column("value vs baseline", _value, justify="right"),
)


@click.command()
@click.argument("app_id", metavar="APP", type=click.IntRange(min=1))
@window_options("7d", "events overlapping --from to --to (Scout keeps 30 days)")
@click.option(
    "--state",
    type=click.Choice(ANOMALY_STATES),
    default=None,
    help="Only open or closed events.  [default: all]",
)
@click.option("--metric", default=None, help="Only events on this metric (response_time, ...).")
@click.option(
    "--endpoint", metavar="NAME", default=None, help="Only events on this endpoint (its name)."
)
@clamp_option("30 days")
@format_option("table", "json")
@pass_settings
def anomalies(
    settings: Settings,
    app_id: int,
    start: TimeSpec,
    end: TimeSpec,
    state: str | None,
    metric: str | None,
    endpoint: str | None,
    clamp: bool,
    fmt: str,
) -> None:
    """List the anomaly events of APP in the window, latest start first: the metric, the
    endpoint (or the whole app), how severe, and the value against its baseline.

    \b
    scout-async anomalies 101
    scout-async anomalies 101 --from 30d --clamp --state open --format json
    """
    start_at, end_at = window(start, end, settings.now())
    try:
        found = run_with_client(
            settings,
            lambda client: client.anomalies.list(
                app_id,
                start=start_at,
                end=end_at,
                state=state,
                metric=metric,
                endpoint=endpoint,
                clamp=clamp,
            ),
        )
    except ArgumentError as exc:
        raise lookback_refused(exc) from None
    if fmt == "json":
        print_json(found)
    else:
        print_table(found, ANOMALY_COLUMNS, empty="no anomaly events in this window")
