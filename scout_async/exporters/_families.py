"""How each Scout metric is exported: its Prometheus name, help text, unit and scale (pure).

Scout's units (its API notes, quirk 6) and what the exporter makes of them, following
Prometheus' naming conventions (base units, the unit as the name's suffix, ``_total`` only for
counters):

=====================  ==========================  ========================================
Scout metric           Scout's unit                exported as
=====================  ==========================  ========================================
``response_time``      milliseconds (mean)         ``scout_app_response_time_seconds``
``response_time_95th`` milliseconds (95th pct.)    ``scout_app_response_time_p95_seconds``
``queue_time``         milliseconds (mean)         ``scout_app_queue_time_seconds``
``throughput``         requests per minute         ``scout_app_throughput_requests_per_second``
``apdex``              a score from 0 to 1         ``scout_app_apdex_ratio``
``errors``             a count per bucket          ``scout_app_errors`` (as sent)
=====================  ==========================  ========================================

Milliseconds become seconds and requests per minute requests per second, Prometheus' base units,
so Grafana's unit picker and ``rate()``-style arithmetic work without a factor. ``errors`` is a
gauge of the count in one bucket (``scout_exporter_resolution_seconds`` long): Scout does not
document it, but its summary is the sum of the buckets (the simulator, and Scout's UI, show a
count per period), so the value is exported as sent rather than turned into a rate on a guess.
It is not a counter: it does not only go up, so it has no ``_total``. Apdex is a ratio of
(satisfied + tolerating / 2) requests to all, hence ``_ratio``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

import attrs

__all__ = [
    "EXPORTED_METRICS",
    "PREFIX",
    "ExportedMetric",
    "exported_metric",
]

#: Every name the exporter exposes starts with this.
PREFIX = "scout_"


@attrs.frozen
class ExportedMetric:
    """How one Scout metric appears in Prometheus.

    ``name`` is the metric family (its unit last), ``unit`` the OpenMetrics unit (``""`` when the
    name carries none), ``scale`` what Scout's value is multiplied by.

    >>> EXPORTED_METRICS["response_time"].name
    'scout_app_response_time_seconds'
    >>> EXPORTED_METRICS["response_time"].convert(250.0)
    0.25
    """

    metric: str
    name: str
    help: str
    unit: str = ""
    scale: float = 1.0

    def convert(self, value: float) -> float:
        """Scout's ``value`` in the exported unit."""
        return value * self.scale


_TABLE = (
    ExportedMetric(
        "response_time",
        "scout_app_response_time_seconds",
        "Mean response time of the app's requests in the bucket (Scout sends milliseconds).",
        "seconds",
        0.001,
    ),
    ExportedMetric(
        "response_time_95th",
        "scout_app_response_time_p95_seconds",
        "95th percentile response time of the app's requests in the bucket (Scout sends "
        "milliseconds).",
        "seconds",
        0.001,
    ),
    ExportedMetric(
        "queue_time",
        "scout_app_queue_time_seconds",
        "Mean time the app's requests waited in the request queue in the bucket (Scout sends "
        "milliseconds).",
        "seconds",
        0.001,
    ),
    ExportedMetric(
        "throughput",
        "scout_app_throughput_requests_per_second",
        "Requests per second the app served in the bucket (Scout sends requests per minute).",
        "",
        1 / 60,
    ),
    ExportedMetric(
        "apdex",
        "scout_app_apdex_ratio",
        "Apdex score of the app in the bucket, from 0 to 1.",
        "ratio",
    ),
    ExportedMetric(
        "errors",
        "scout_app_errors",
        "Errors the app raised in the bucket: a count per bucket of "
        "scout_exporter_resolution_seconds, as Scout sends it.",
    ),
)

#: Scout metric name -> how it is exported.
EXPORTED_METRICS: Mapping[str, ExportedMetric] = MappingProxyType({m.metric: m for m in _TABLE})

_NOT_NAME = re.compile(r"[^a-zA-Z0-9_]")


def exported_metric(metric: str) -> ExportedMetric:
    """How ``metric`` is exported; a metric this table does not know keeps Scout's value under
    ``scout_app_<metric>`` and says that its unit is unknown."""
    known = EXPORTED_METRICS.get(metric)
    if known is not None:
        return known
    safe = _NOT_NAME.sub("_", metric).strip("_").lower() or "unnamed"
    return ExportedMetric(
        metric,
        f"scout_app_metric_{safe}",
        f"Scout's {metric} metric of the app in the bucket, as Scout sends it (unit unknown).",
    )
