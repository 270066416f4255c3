"""Which series a job covers: apps and metrics as given (checked before any request), or
``"all"`` (listed from the API when the job starts; with ``metrics="all"`` an app whose metrics
cannot be listed is set aside, not the end of the job: see ``Selection.resolve_each``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import anyio
import attrs

from .._exceptions import ArgumentError, ArgumentTypeError, AuthenticationError, ScoutError
from .._resources.apps import Apps
from .._resources.checks import check_id, check_name
from .._resources.metrics import APP_METRICS, Metrics

__all__ = [
    "ALL_METRICS",
    "AppsArg",
    "MetricsArg",
    "Resolved",
    "Selection",
    "SeriesKey",
    "app_series",
    "select",
]

AppsArg = Literal["all"] | Sequence[int]
MetricsArg = Literal["all"] | Sequence[str]
#: One series: (app id, metric name).
SeriesKey = tuple[int, str]
#: The metric of a stand-in for "every metric of this app", whose listing failed: a backfill
#: reports it as a ``SeriesResult`` (and checkpoints it, to list it again on resume); ``poll``
#: yields its errors as ``PollUpdate``s. Never a metric name (those are lowercase words).
ALL_METRICS = "*"


@attrs.frozen
class Selection:
    """``apps``/``metrics`` in sorted order without duplicates; ``None`` stands for ``"all"``."""

    apps: tuple[int, ...] | None
    metrics: tuple[str, ...] | None

    def describe(self) -> dict[str, object]:
        """The selection as JSON (part of a checkpoint's fingerprint)."""
        return {
            "apps": "all" if self.apps is None else list(self.apps),
            "metrics": "all" if self.metrics is None else list(self.metrics),
        }

    async def resolve(self, apps: Apps, metrics: Metrics) -> list[SeriesKey]:
        """Every (app, metric) pair, listing apps and per-app metrics for ``"all"`` through the
        ``apps`` and ``metrics`` resources (``client.apps``, ``client.metrics``).

        All or nothing: the first app whose metrics cannot be listed fails the call (see
        ``resolve_each`` for a job that goes on without it).
        """
        resolved = await self.resolve_each(apps, metrics)
        if resolved.failed:
            raise resolved.failed[min(resolved.failed)]
        return resolved.series

    async def resolve_each(self, apps: Apps, metrics: Metrics) -> Resolved:
        """Every (app, metric) pair that could be listed, and the apps whose metrics could not.

        With ``metrics="all"`` each app's metrics are listed on their own: an app whose listing
        fails (a 5xx, a 404, a timeout, ...) is recorded in ``failed`` and the others are
        returned. A refused key (``AuthenticationError``), a failing ``/apps`` listing or any
        other exception is raised at once: no app could be listed either.
        """
        if self.apps is None:
            app_ids = sorted({app.id for app in await apps.list()})
        else:
            app_ids = list(self.apps)
        if self.metrics is not None:
            return Resolved([(app_id, metric) for app_id in app_ids for metric in self.metrics], {})
        offered: dict[int, list[SeriesKey]] = {}
        failed: dict[int, ScoutError] = {}
        fatal: Exception | None = None

        async def list_one(app_id: int) -> None:
            nonlocal fatal
            try:
                offered[app_id] = await app_series(metrics, app_id)
            except AuthenticationError as exc:
                fatal = fatal or exc
                tg.cancel_scope.cancel()
            except ScoutError as exc:
                failed[app_id] = exc
            except Exception as exc:  # raised below, without an exception group
                fatal = fatal or exc
                tg.cancel_scope.cancel()

        async with anyio.create_task_group() as tg:
            for app_id in app_ids:
                tg.start_soon(list_one, app_id)
        if fatal is not None:
            raise fatal
        series = [key for app_id in app_ids for key in offered.get(app_id, [])]
        return Resolved(series, dict(sorted(failed.items())))


@attrs.frozen
class Resolved:
    """What ``Selection.resolve_each`` found: the series in job order (by app, then metric),
    and the apps whose metrics could not be listed, with why (only with ``metrics="all"``)."""

    series: list[SeriesKey]
    failed: dict[int, ScoutError]


async def app_series(metrics: Metrics, app_id: int) -> list[SeriesKey]:
    """The series of every metric ``app_id`` offers, sorted by metric (one request)."""
    return [(app_id, metric) for metric in sorted(set(await metrics.list(app_id)))]


def select(apps: object, metrics: object) -> Selection:
    """Check ``apps`` and ``metrics`` (``"all"`` or a non-empty list) without any request."""
    return Selection(apps=_apps(apps), metrics=_metrics(metrics))


def _apps(apps: object) -> tuple[int, ...] | None:
    if apps == "all":
        return None
    if isinstance(apps, (str, bytes)) or not isinstance(apps, Sequence):
        raise ArgumentTypeError(f"apps must be 'all' or a list of app ids, got {apps!r}")
    if not apps:
        raise ArgumentError("apps is empty: pass 'all' or at least one app id")
    return tuple(sorted({check_id(app_id) for app_id in apps}))


def _metrics(metrics: object) -> tuple[str, ...] | None:
    if metrics == "all":
        return None
    if isinstance(metrics, (str, bytes)) or not isinstance(metrics, Sequence):
        raise ArgumentTypeError(f"metrics must be 'all' or a list of metric names, got {metrics!r}")
    if not metrics:
        raise ArgumentError("metrics is empty: pass 'all' or at least one metric name")
    return tuple(sorted({check_name(name, APP_METRICS, "metric") for name in metrics}))
