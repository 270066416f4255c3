"""What the exporter knows: the newest value of each series and the poll's counters (pure).

The poll task writes (``apply``), scrapes read (``snapshot``); a lock makes a snapshot consistent
even when a scrape runs on another thread (``prometheus_client``'s own HTTP server does). Nothing
here waits on anything: a scrape costs a copy of this state, never a request.

Ageing, with ``now`` read from the client's clock:

* **stale**: a series is marked stale (``scout_exporter_series_stale`` 1) while its latest poll
  failed, or when no poll of it has succeeded for ``stale_after``. Its value stays exported.
* **dropped**: a value is no longer exported once its bucket ended more than ``max_age`` ago
  (an app that keeps failing, or that stopped reporting); Prometheus then ends the series as it
  does for any series that leaves a target. The series' staleness and poll counters stay.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta

import attrs

from .._bulk.poll import PollUpdate
from .._bulk.selection import ALL_METRICS, SeriesKey

__all__ = ["AppView", "ExporterState", "SeriesView", "Snapshot"]


@attrs.define
class _Series:
    value: float | None = None  # Scout's value of the newest bucket that has one
    bucket: datetime | None = None  # that bucket's start
    last_success: datetime | None = None
    failing: bool = False


@attrs.define
class _App:
    polls: int = 0
    errors: Counter[str] = attrs.field(factory=Counter)


@attrs.frozen
class SeriesView:
    """One series as a scrape sees it: ``value``/``bucket`` are None when there is none to
    export (never fetched, or older than ``max_age``)."""

    app_id: int
    app_name: str
    metric: str
    value: float | None
    bucket: datetime | None
    last_success: datetime | None
    stale: bool


@attrs.frozen
class AppView:
    """One app's poll counters: answered series polls, and the failed ones by error type."""

    app_id: int
    app_name: str
    polls: int
    errors: tuple[tuple[str, int], ...]


@attrs.frozen
class Snapshot:
    series: tuple[SeriesView, ...]
    apps: tuple[AppView, ...]
    restarts: int
    app_list_errors: int
    has_data: bool


class ExporterState:
    """The newest value of each series, the per-app counters, and the apps' names."""

    def __init__(self, *, step: timedelta, stale_after: timedelta, max_age: timedelta) -> None:
        self.step = step
        self.stale_after = stale_after
        self.max_age = max_age
        self._lock = threading.Lock()
        self._series: dict[SeriesKey, _Series] = {}
        self._apps: dict[int, _App] = {}
        self._names: dict[int, str] = {}
        self._restarts = 0
        self._app_list_errors = 0
        self._has_data = False

    def apply(self, update: PollUpdate, now: datetime) -> None:
        """Take one update of ``client.poll``, received at ``now``."""
        with self._lock:
            app = self._apps.setdefault(update.app_id, _App())
            app.polls += 1
            if update.error is not None:
                app.errors[type(update.error).__name__] += 1
                if update.metric != ALL_METRICS:  # "*": the app's metrics could not be listed
                    self._series.setdefault(
                        (update.app_id, update.metric), _Series()
                    ).failing = True
                return
            series = self._series.setdefault((update.app_id, update.metric), _Series())
            series.failing = False
            series.last_success = now
            self._has_data = True
            for point in reversed(update.points):
                if point.value is None:
                    continue  # a null bucket: the newest value is an older one
                if series.bucket is None or point.time > series.bucket:
                    series.value, series.bucket = point.value, point.time
                break

    def set_names(self, names: Mapping[int, str]) -> None:
        with self._lock:
            self._names.update(names)

    def unnamed(self) -> bool:
        """Whether an app the poll reported on has no name yet."""
        with self._lock:
            return any(app_id not in self._names for app_id in self._apps)

    def count_restart(self) -> None:
        with self._lock:
            self._restarts += 1

    def count_app_list_error(self) -> None:
        with self._lock:
            self._app_list_errors += 1

    @property
    def has_data(self) -> bool:
        """Whether any series poll has succeeded yet."""
        return self._has_data

    def snapshot(self, now: datetime) -> Snapshot:
        """A consistent copy for one scrape, aged at ``now``."""
        with self._lock:
            series = [self._view(key, entry, now) for key, entry in sorted(self._series.items())]
            apps = [
                AppView(
                    app_id,
                    self._names.get(app_id, ""),
                    app.polls,
                    tuple(sorted(app.errors.items())),
                )
                for app_id, app in sorted(self._apps.items())
            ]
            return Snapshot(
                tuple(series), tuple(apps), self._restarts, self._app_list_errors, self._has_data
            )

    def _view(self, key: SeriesKey, entry: _Series, now: datetime) -> SeriesView:
        app_id, metric = key
        stale = (
            entry.failing
            or entry.last_success is None
            or now - entry.last_success > self.stale_after
        )
        value, bucket = entry.value, entry.bucket
        if bucket is not None and now - (bucket + self.step) > self.max_age:
            value = bucket = None
        return SeriesView(
            app_id,
            self._names.get(app_id, ""),
            metric,
            value,
            bucket,
            entry.last_success,
            stale,
        )
