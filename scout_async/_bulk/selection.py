"""Which series a job covers: apps and metrics as given (checked before any request), or
``"all"`` (listed from the API when the job starts; with ``metrics="all"`` an app whose metrics
cannot be listed is set aside, not the end of the job: see ``Selection.resolve_each``); and, for
a job split into ``n`` shards, the share of one shard (``Shard``).

A shard owns the series whose stable hash falls to it: the first 8 bytes of the SHA-256 of
``"{app_id}/{metric}"``, as a big-endian integer, modulo ``n``. The same series always lands in
the same shard, on every machine and Python version (never Python's ``hash()``, which is salted
per process); shards are disjoint and together hold every series; a series added later (a new
app) joins one shard without moving any other.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
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
    "Shard",
    "app_series",
    "select",
    "shard_of",
]

AppsArg = Literal["all"] | Sequence[int]
MetricsArg = Literal["all"] | Sequence[str]
#: One series: (app id, metric name).
SeriesKey = tuple[int, str]
#: The metric of a stand-in for "every metric of this app", whose listing failed: a backfill
#: reports it as a ``SeriesResult`` (and checkpoints it, to list it again on resume); ``poll``
#: yields its errors as ``PollUpdate``s. Never a metric name (those are lowercase words).
ALL_METRICS = "*"


def shard_of(key: SeriesKey, count: int) -> int:
    """The shard (``0 <= shard < count``) series ``key`` belongs to: stable everywhere.

    >>> shard_of((101, "throughput"), 4)
    2
    """
    app_id, metric = key
    digest = hashlib.sha256(f"{app_id}/{metric}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % count


@attrs.frozen
class Shard:
    """Shard ``index`` of ``count`` (``0 <= index < count``): the series ``shard_of`` gives it.

    >>> Shard(0, 4).owns((101, "throughput"))
    False
    """

    index: int
    count: int

    def owns(self, key: SeriesKey) -> bool:
        return shard_of(key, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


@attrs.frozen
class Selection:
    """``apps``/``metrics`` in sorted order without duplicates; ``None`` stands for ``"all"``.
    ``shard``: only the series of that shard (``None``: every series)."""

    apps: tuple[int, ...] | None
    metrics: tuple[str, ...] | None
    shard: Shard | None = None

    def describe(self) -> dict[str, object]:
        """The selection as JSON (part of a checkpoint's fingerprint): each shard of a job has
        a checkpoint of its own."""
        described: dict[str, object] = {
            "apps": "all" if self.apps is None else list(self.apps),
            "metrics": "all" if self.metrics is None else list(self.metrics),
        }
        if self.shard is not None:  # absent unsharded: older checkpoints keep their fingerprint
            described["shard"] = str(self.shard)
        return described

    def owned(self, series: Iterable[SeriesKey]) -> list[SeriesKey]:
        """``series`` (in their order) that this selection's shard owns; all without a shard."""
        shard = self.shard
        return list(series) if shard is None else [key for key in series if shard.owns(key)]

    async def app_series(self, metrics: Metrics, app_id: int) -> list[SeriesKey]:
        """``app_series`` of ``app_id``, only those of the shard (one request)."""
        return self.owned(await app_series(metrics, app_id))

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
            pairs = [(app_id, metric) for app_id in app_ids for metric in self.metrics]
            return Resolved(self.owned(pairs), {})
        offered: dict[int, list[SeriesKey]] = {}
        failed: dict[int, ScoutError] = {}
        fatal: Exception | None = None

        async def list_one(app_id: int) -> None:
            nonlocal fatal
            try:
                offered[app_id] = await self.app_series(metrics, app_id)
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


def select(apps: object, metrics: object, shard: object = None) -> Selection:
    """Check ``apps`` and ``metrics`` (``"all"`` or a non-empty list) and ``shard`` (``None`` or
    ``(index, count)``) without any request."""
    return Selection(apps=_apps(apps), metrics=_metrics(metrics), shard=_shard(shard))


def _shard(shard: object) -> Shard | None:
    if shard is None or isinstance(shard, Shard):
        return shard
    if (
        not isinstance(shard, tuple)
        or len(shard) != 2
        or any(isinstance(n, bool) or not isinstance(n, int) for n in shard)
    ):
        raise ArgumentTypeError(
            f"shard must be None or (index, count), two ints such as (0, 4), got {shard!r}"
        )
    index, count = shard
    if count < 1 or not 0 <= index < count:
        raise ArgumentError(
            f"shard must be (index, count) with count >= 1 and 0 <= index < count (shards are "
            f"numbered from 0), got {shard!r}"
        )
    return Shard(index, count)


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
