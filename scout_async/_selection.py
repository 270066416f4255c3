"""Which series a job covers: apps and metrics as given (checked before any request), or
``"all"`` (listed from the API when the job starts)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import anyio
import attrs

from ._resources._validate import check_id, check_name, path_segment
from ._resources.metrics import APP_METRICS

if TYPE_CHECKING:
    from ._client import ScoutClient

__all__ = ["AppsArg", "MetricsArg", "SeriesKey", "Selection", "metric_path", "select"]

AppsArg = Literal["all"] | Sequence[int]
MetricsArg = Literal["all"] | Sequence[str]
#: One series: (app id, metric name).
SeriesKey = tuple[int, str]


def metric_path(key: SeriesKey) -> str:
    """The API path of an app metric's series."""
    app_id, metric = key
    return f"/apps/{app_id}/metrics/{path_segment(metric)}"


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

    async def resolve(self, client: ScoutClient) -> list[SeriesKey]:
        """Every (app, metric) pair, listing apps and per-app metrics for ``"all"``."""
        if self.apps is None:
            apps = sorted({app.id for app in await client.apps.list()})
        else:
            apps = list(self.apps)
        if self.metrics is not None:
            return [(app_id, metric) for app_id in apps for metric in self.metrics]
        offered: dict[int, list[str]] = {}
        failure: Exception | None = None

        async def list_metrics(app_id: int) -> None:
            nonlocal failure
            try:
                offered[app_id] = sorted(set(await client.metrics.list(app_id)))
            except Exception as exc:  # raised below, without an exception group
                failure = failure or exc
                tg.cancel_scope.cancel()

        async with anyio.create_task_group() as tg:
            for app_id in apps:
                tg.start_soon(list_metrics, app_id)
        if failure is not None:
            raise failure
        return [(app_id, metric) for app_id in apps for metric in offered[app_id]]


def select(apps: object, metrics: object) -> Selection:
    """Check ``apps`` and ``metrics`` (``"all"`` or a non-empty list) without any request."""
    return Selection(apps=_apps(apps), metrics=_metrics(metrics))


def _apps(apps: object) -> tuple[int, ...] | None:
    if apps == "all":
        return None
    if isinstance(apps, (str, bytes)) or not isinstance(apps, Sequence):
        raise TypeError(f"apps must be 'all' or a list of app ids, got {apps!r}")
    if not apps:
        raise ValueError("apps is empty: pass 'all' or at least one app id")
    return tuple(sorted({check_id(app_id) for app_id in apps}))


def _metrics(metrics: object) -> tuple[str, ...] | None:
    if metrics == "all":
        return None
    if isinstance(metrics, (str, bytes)) or not isinstance(metrics, Sequence):
        raise TypeError(f"metrics must be 'all' or a list of metric names, got {metrics!r}")
    if not metrics:
        raise ValueError("metrics is empty: pass 'all' or at least one metric name")
    return tuple(sorted({check_name(name, APP_METRICS, "metric") for name in metrics}))
