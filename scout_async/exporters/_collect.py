"""The metric families of one scrape, built from a ``Snapshot`` and the client's counters.

Values carry no sample timestamps: Prometheus stamps them with the scrape time, and the bucket
each value belongs to is a gauge of its own (``scout_app_bucket_timestamp_seconds``). Explicit
timestamps would be minutes old by design (complete buckets only), which Prometheus treats as out
of order or out of bounds and which breaks its staleness handling.
"""

from __future__ import annotations

import platform
from collections.abc import Iterator
from datetime import timedelta

import attrs
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from .._core import ClientStats
from .._version import __version__
from ._families import EXPORTED_METRICS, exported_metric
from ._state import Snapshot

__all__ = ["ExportSettings", "describe", "families"]

SERIES_LABELS = ["app_id", "app_name", "metric"]
APP_LABELS = ["app_id", "app_name"]


@attrs.frozen
class ExportSettings:
    """What the scrape says about the exporter's configuration."""

    interval: timedelta
    step: timedelta
    max_age: timedelta
    stale_after: timedelta


def families(
    snapshot: Snapshot,
    stats: ClientStats,
    settings: ExportSettings,
    *,
    pause: float | None,
) -> Iterator[Metric]:
    """Every family of one scrape; ``pause`` is what is left of the client's 429 pause (None:
    not known here)."""
    yield from _values(snapshot)
    yield from _series_health(snapshot)
    yield from _polls(snapshot)
    yield from _traffic(stats, pause)
    yield from _about(settings)


def describe(settings: ExportSettings) -> Iterator[Metric]:
    """The families without samples, for a registry's collision check."""
    empty = Snapshot((), (), 0, 0, has_data=False)
    for exported in EXPORTED_METRICS.values():
        yield GaugeMetricFamily(
            exported.name, exported.help, labels=SERIES_LABELS, unit=exported.unit
        )
    yield _buckets()
    yield from _series_health(empty, always=True)
    yield from _polls(empty, always=True)
    yield from _traffic(ClientStats(), None)
    yield from _about(settings)


def _values(snapshot: Snapshot) -> Iterator[Metric]:
    by_metric: dict[str, GaugeMetricFamily] = {}
    buckets = _buckets()
    for view in snapshot.series:
        if view.value is None or view.bucket is None:
            continue
        exported = exported_metric(view.metric)
        family = by_metric.get(exported.name)
        if family is None:
            family = by_metric[exported.name] = GaugeMetricFamily(
                exported.name, exported.help, labels=SERIES_LABELS, unit=exported.unit
            )
        labels = [str(view.app_id), view.app_name, view.metric]
        family.add_metric(labels, exported.convert(view.value))
        buckets.add_metric(labels, view.bucket.timestamp())
    yield from (by_metric[name] for name in sorted(by_metric))
    if buckets.samples:
        yield buckets


def _buckets() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "scout_app_bucket_timestamp_seconds",
        "Start of the bucket (Unix time) whose value the scout_app_* gauges show; the bucket "
        "lasts scout_exporter_resolution_seconds.",
        labels=SERIES_LABELS,
        unit="seconds",
    )


def _series_health(snapshot: Snapshot, *, always: bool = False) -> Iterator[Metric]:
    stale = GaugeMetricFamily(
        "scout_exporter_series_stale",
        "1 while the series' latest poll failed or it has not been polled successfully for "
        "scout_exporter_stale_after_seconds, else 0.",
        labels=SERIES_LABELS,
    )
    success = GaugeMetricFamily(
        "scout_exporter_last_success_timestamp_seconds",
        "When the series was last polled successfully (Unix time).",
        labels=SERIES_LABELS,
        unit="seconds",
    )
    for view in snapshot.series:
        labels = [str(view.app_id), view.app_name, view.metric]
        stale.add_metric(labels, 1.0 if view.stale else 0.0)
        if view.last_success is not None:
            success.add_metric(labels, view.last_success.timestamp())
    for family in (stale, success):
        if always or family.samples:
            yield family


def _polls(snapshot: Snapshot, *, always: bool = False) -> Iterator[Metric]:
    polls = CounterMetricFamily(
        "scout_exporter_polls_total",
        "Series polls answered, successful or not (an app whose metrics could not be listed "
        "counts one per attempt).",
        labels=APP_LABELS,
    )
    errors = CounterMetricFamily(
        "scout_exporter_poll_errors_total",
        "Series polls that failed, by the client's error type (RateLimitError, ServerError, "
        "APITimeoutError, ...).",
        labels=[*APP_LABELS, "error"],
    )
    for app in snapshot.apps:
        labels = [str(app.app_id), app.app_name]
        polls.add_metric(labels, app.polls)
        for error, count in app.errors:
            errors.add_metric([*labels, error], count)
    for family in (polls, errors):
        if always or family.samples:
            yield family
    yield CounterMetricFamily(
        "scout_exporter_poll_restarts_total",
        "Times polling ended with an error (listing the apps failed) and was started again.",
        value=snapshot.restarts,
    )
    yield CounterMetricFamily(
        "scout_exporter_app_list_errors_total",
        "Failed listings of the apps' names (the labels keep the names listed before).",
        value=snapshot.app_list_errors,
    )


def _traffic(stats: ClientStats, pause: float | None) -> Iterator[Metric]:
    yield CounterMetricFamily(
        "scout_exporter_requests_total",
        "HTTP requests the client sent to Scout, retries included.",
        value=stats.requests,
    )
    yield CounterMetricFamily(
        "scout_exporter_retries_total",
        "Requests the client sent again after a connection error, timeout, 429 or 5xx.",
        value=stats.retries,
    )
    yield CounterMetricFamily(
        "scout_exporter_rate_limited_total",
        "429 (rate limited) answers from Scout.",
        value=stats.rate_limited,
    )
    yield CounterMetricFamily(
        "scout_exporter_rate_limit_wait_seconds_total",
        "Seconds requests spent waiting out the client-wide pause after a 429, added up over "
        "the waiting requests.",
        value=stats.rate_limit_wait,
    )
    yield GaugeMetricFamily(
        "scout_exporter_requests_in_flight",
        "Requests to Scout in flight now.",
        value=stats.in_flight,
    )
    if pause is not None:
        yield GaugeMetricFamily(
            "scout_exporter_rate_limit_pause_seconds",
            "Seconds left in the client-wide pause after a 429 (0: not paused); no request "
            "leaves before it ends.",
            value=pause,
            unit="seconds",
        )


def _about(settings: ExportSettings) -> Iterator[Metric]:
    info = GaugeMetricFamily(
        "scout_exporter_build_info",
        "The exporter's version and Python (always 1).",
        labels=["version", "python_version"],
    )
    info.add_metric([__version__, platform.python_version()], 1.0)
    yield info
    for name, length, text in (
        ("interval", settings.interval, "How often Scout is polled."),
        ("resolution", settings.step, "Length of a bucket (the step of every series)."),
        ("max_age", settings.max_age, "A value whose bucket ended longer ago is not exported."),
        (
            "stale_after",
            settings.stale_after,
            "A series not polled successfully for this long is marked stale.",
        ),
    ):
        yield GaugeMetricFamily(
            f"scout_exporter_{name}_seconds", text, value=length.total_seconds(), unit="seconds"
        )
