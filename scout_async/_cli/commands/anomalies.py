"""``anomalies``: the anomaly events Scout detected on an app's metrics."""

from __future__ import annotations

from datetime import timedelta

import click
from rich.text import Text

from ..._exceptions import ArgumentError
from ..._resources.anomalies import ANOMALY_STATES
from ..._resources.metrics import APP_METRICS
from ...types._models import AnomalyEvent
from ..context import Settings, choose_format, pass_settings, run_with_client
from ..options import (
    APP_ARGUMENT,
    TIME,
    app_option,
    clamp_option,
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
    limited,
    percent,
    print_listing,
    table_time,
    to_json,
    write_json,
)
from ..times import TIME_HELP, TimeSpec
from ..units import metric_unit, with_unit

__all__ = ["anomalies"]

_SEVERITY_STYLE = {"critical": "bold red", "warning": "yellow"}
LOOKBACK = timedelta(days=30)


def _when(event: AnomalyEvent) -> Text:
    """``2026-11-30 20:39, 48m`` (how long it lasted), or ``…, open``."""
    text = Text(table_time(event.started_at)[:16] + ",")
    if event.ended_at is None:
        text.append(" open", style="bold")
    elif event.started_at is not None:
        minutes = int((event.ended_at - event.started_at).total_seconds() // 60)
        text.append(f" {minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f" {minutes}m")
    return text


def _value(event: AnomalyEvent) -> str:
    """``1,293.5 ms vs 127.7 ms ↑ 10.1x``: the value against its baseline, in the metric's
    unit."""
    if event.current_value is None:
        return "-"
    if event.metric == "error_rate":  # a fraction: as a percentage
        text = f"{percent(event.current_value)} vs {percent(event.baseline_value)}"
    else:
        unit = metric_unit(event.metric or "")
        current, baseline = event.current_value, event.baseline_value
        text = f"{with_unit(current, unit)} vs {with_unit(baseline, unit)}"
    arrow = {"up": " ↑", "down": " ↓"}.get(event.direction or "", "")
    if event.multiplier is not None:
        text += f"{arrow} {event.multiplier:g}x"
    elif arrow:
        text += arrow
    return text


ANOMALY_COLUMNS = (
    Column("id", lambda e: str(e.id), kind="number"),
    Column("started (UTC), lasted", _when, kind="time"),
    Column("metric", lambda e: e.metric or "-", kind="text"),
    Column("endpoint", lambda e: e.endpoint or "(app)", kind="text"),
    Column(
        "severity",
        lambda e: Text(e.severity or "-", style=_SEVERITY_STYLE.get(e.severity or "", "")),
        kind="text",
    ),
    Column("value vs baseline", _value, justify="right", kind="time"),
)


def _units(event: AnomalyEvent) -> dict[str, str]:
    symbol = "fraction" if event.metric == "error_rate" else metric_unit(event.metric or "").symbol
    return {"current_value": symbol, "baseline_value": symbol}


@click.command()
@APP_ARGUMENT
@app_option
@click.option(
    "--from",
    "start",
    type=TIME,
    default=None,
    help="Window start: events overlapping --from to --to. Scout serves the last 30 days; a "
    f"relative --from up to 30d is clamped to that.  [default: 30d] {TIME_HELP}",
)
@to_option
@click.option(
    "--state",
    type=click.Choice(ANOMALY_STATES),
    default=None,
    help="Only open or closed events.  [default: all]",
)
@click.option(
    "--metric",
    type=click.Choice(APP_METRICS),
    default=None,
    help="Only events on this metric.",
)
@click.option(
    "--endpoint", metavar="NAME", default=None, help="Only events on this endpoint (its name)."
)
@clamp_option("30 days")
@format_option("table", "json")
@limit_option
@pass_settings
def anomalies(
    settings: Settings,
    app_id: int | None,
    start: TimeSpec | None,
    end: TimeSpec,
    state: str | None,
    metric: str | None,
    endpoint: str | None,
    clamp: bool,
    fmt: str | None,
) -> None:
    """List the anomaly events of APP in the window, latest start first: when, the metric, the
    endpoint (or the whole app), how severe, and the value against its baseline in the metric's
    unit.

    \b
    scout-async anomalies 101
    scout-async anomalies 101 --from 7d --state open --json
    """
    app = resolve_app(settings, app_id)
    start_at, end_at, clamp = lookback_window(
        settings,
        start,
        end,
        limit=LOOKBACK,
        limit_text="30 days",
        what="anomaly events",
        clamp=clamp,
    )
    try:
        found = run_with_client(
            settings,
            lambda client: client.anomalies.list(
                app,
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
    chosen = choose_format(fmt, settings, "table")
    limit = listing_limit(settings)
    if chosen == "json":
        shown, _ = limited(found, limit)
        write_json([{**to_json(e), "units": _units(e)} for e in shown])
        return
    print_listing(
        found, ANOMALY_COLUMNS, fmt=chosen, empty="no anomaly events in this window", limit=limit
    )
