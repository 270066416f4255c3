"""Who exists in the simulated account: apps, their endpoints and their background jobs.

Built once per simulator from its seed; each app keeps a deterministic subset of a realistic pool.
A test may add apps and jobs later (`Catalog.add_app`, `Catalog.add_job`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from ._facts import APP_METRICS
from ._metric_data import Source
from ._noise import mix, symmetric, unit
from ._rules import decode_id, encode_endpoint_id, encode_job_id, format_time

__all__ = ["AppModel", "Catalog", "EndpointModel", "JobModel"]

# (name, relative volume, typical response time in ms). The last two are odd on purpose: their
# base64 ids contain "/" and "+" (and padding), which a client must percent-encode in a path.
_ENDPOINT_POOL: tuple[tuple[str, float, float], ...] = (
    ("api/metrics/show", 30, 90),
    ("users/index", 12, 140),
    ("users/show", 18, 75),
    ("sessions/create", 6, 210),
    ("orders/create", 4, 320),
    ("orders/show", 8, 110),
    ("checkout/payments/create", 2, 380),
    ("search/index", 14, 240),
    ("api/v1/products/index", 20, 130),
    ("api/v1/products/show", 25, 60),
    ("webhooks/stripe/create", 3, 150),
    ("admin/reports/index", 1, 350),
    ("carts/update", 7, 95),
    ("health/show", 10, 12),
    ("reports/export?>", 0.5, 390),
    ("docs/~~~/show", 2, 70),
)
_ALWAYS = frozenset({"api/metrics/show", "reports/export?>", "docs/~~~/show"})

# (queue, class name, relative volume, typical execution time in ms)
_JOB_POOL: tuple[tuple[str, str, float, float], ...] = (
    ("default", "MailerJob", 40, 180),
    ("critical", "ChargeCardJob", 8, 950),
    ("low", "ReportExportJob", 1, 4200),
    ("default", "WebhookDeliveryJob", 25, 240),
    ("mailers", "ActionMailer::MailDeliveryJob", 30, 120),
    ("default", "SearchReindexJob", 5, 1600),
)
# Trace ids pack the source's pool index; jobs sit after the endpoints, in the slots up to 64
# (`_traces` keeps 64 source slots per app).
JOB_INDEX_OFFSET = 32
MAX_JOBS = 64 - JOB_INDEX_OFFSET
# An added job (`Catalog.add_job`): its relative volume and typical execution time in ms.
_ADDED_JOB = (2.0, 300.0)


def formatted_method_name(name: str) -> str:
    """``api/metrics/show`` -> ``Api::MetricsController#show``."""
    *path, action = name.split("/")
    controller = "::".join("".join(w.capitalize() for w in part.split("_")) for part in path)
    return f"{controller}Controller#{action}"


@attrs.frozen
class EndpointModel:
    index: int  # position in the pool, stable across apps (trace ids use it)
    name: str
    share: float  # of the app's requests
    time_share: float  # of the app's total time consumed
    source: Source

    @property
    def endpoint_id(self) -> str:
        return encode_endpoint_id(self.name)

    def listing(self, app_id: int, start: datetime, end: datetime) -> dict[str, Any]:
        """The endpoint as `/apps/{id}/endpoints` lists it for a window.

        Observed: the fields and their forms, in Scout's Go CLI test/fixtures/endpoints.json
        (``formatted_method_name``, ``link`` ending in the id, ``95th_percentile``); documented:
        the units (API notes, quirk 6: ms, requests per minute, ``error_rate`` a fraction).
        """
        window = (int(start.timestamp()), int(end.timestamp()))
        s = self.source

        def jitter(tag: int) -> float:
            return symmetric(s.seed, s.app_id, s.key, tag, *window)

        response = s.duration_ms * (1 + 0.06 * jitter(1))
        return {
            "name": self.name,
            "percentage_of_total": round(100 * self.time_share, 2),
            "response_time": round(response, 2),
            "throughput": round(s.volume * (1 + 0.05 * jitter(2)), 2),
            # A number with a fraction: Scout's CLI reads it as a float (internal/api/types.go,
            # MaxAllocations float64); issue 10 saw 1.7 (the spec says integer).
            "max_allocations": round(
                (40_000 + 900 * s.duration_ms) * (1.5 + unit(s.seed, s.key, 3)), 1
            ),
            "error_rate": round(s.error_rate * (1 + 0.3 * jitter(4)), 5),
            "formatted_method_name": formatted_method_name(self.name),
            "link": f"/apps/{app_id}/endpoints/{self.endpoint_id}",
            "95th_percentile": round(response * (2.3 + 0.2 * jitter(5)), 2),
        }


@attrs.frozen
class JobModel:
    index: int
    queue: str
    name: str
    time_share: float
    source: Source

    @property
    def full_name(self) -> str:
        return f"{self.queue}/{self.name}"

    @property
    def job_id(self) -> str:
        return encode_job_id(self.full_name)

    def listing(self) -> dict[str, Any]:
        """The job as `/apps/{id}/jobs` lists it. Observed: Scout's Go CLI test/fixtures/jobs.json
        and internal/api/types.go (``execution_time`` in ms, ``latency`` in seconds,
        ``time_consumed`` a fraction)."""
        s = self.source
        return {
            "full_name": self.full_name,
            "name": self.name,
            "queue": self.queue,
            "job_id": self.job_id,
            "throughput": round(s.volume, 2),
            "execution_time": round(s.duration_ms, 2),
            "time_consumed": round(self.time_share, 4),
            "latency": round(0.3 + 2 * unit(s.seed, s.key, 7), 3),
        }


@attrs.frozen
class AppModel:
    id: int
    name: str
    source: Source
    endpoints: tuple[EndpointModel, ...]
    jobs: tuple[JobModel, ...]
    metrics: tuple[str, ...] = APP_METRICS  # what `/apps/{id}/metrics` lists

    def endpoint(self, endpoint_id: str) -> EndpointModel | None:
        name = decode_id(endpoint_id)
        return next((e for e in self.endpoints if e.name == name), None)

    def endpoint_named(self, name: str) -> EndpointModel | None:
        return next((e for e in self.endpoints if e.name == name), None)

    def job(self, job_id: str) -> JobModel | None:
        name = decode_id(job_id)
        return next((j for j in self.jobs if j.full_name == name), None)

    def listing(self, now: datetime, *, reported: bool = True) -> dict[str, Any]:
        """The app as ``/apps`` lists it. One whose agent never ``reported`` has
        ``last_reported_at: ""``: empty rather than absent, which the Ruby client
        (amkisko/scout_apm_mcp.rb, ``list_apps``) guards against; an assumption beyond that."""
        if not reported:
            return {"id": self.id, "name": self.name, "last_reported_at": ""}
        # Agents report every minute; the last report is a minute or two old.
        minutes = 1 + mix(self.source.seed, self.id, 0x1A57) % 3
        last = now.replace(second=0, microsecond=0) - timedelta(minutes=minutes)
        return {"id": self.id, "name": self.name, "last_reported_at": format_time(last)}


def _job_volume(seed: int, app_id: int) -> float:
    return 20 + 200 * unit(seed, app_id, 0xA3)  # jobs per minute


_JOB_WEIGHT = sum(w for _, _, w, _ in _JOB_POOL)
_JOB_TIME = sum(w * ms for _, _, w, ms in _JOB_POOL)


def _job(
    seed: int, app_id: int, i: int, queue: str, name: str, weight: float, ms: float
) -> JobModel:
    """The job at position ``i`` of an app's jobs (the pool's, then any added ones)."""
    return JobModel(
        index=JOB_INDEX_OFFSET + i,
        queue=queue,
        name=name,
        time_share=weight * ms / _JOB_TIME,
        source=Source(
            seed=seed,
            app_id=app_id,
            name=f"{queue}/{name}",
            volume=_job_volume(seed, app_id) * weight / _JOB_WEIGHT,
            duration_ms=ms * (0.8 + 0.4 * unit(seed, app_id, i, 0xB1)),
            error_rate=0.002 + 0.01 * unit(seed, app_id, i, 0xB2),
            sensitivity=0.2 + 0.5 * unit(seed, app_id, i, 0xB3),
        ),
    )


def _build_app(seed: int, app_id: int, name: str, metrics: tuple[str, ...]) -> AppModel:
    volume = 200 + 2300 * unit(seed, app_id, 0xA1)  # requests per minute
    error_rate = 0.001 + 0.004 * unit(seed, app_id, 0xA2)
    kept = [
        (
            i,
            n,
            w * (0.75 + 0.5 * unit(seed, app_id, i, 0xE1)),
            ms * (0.8 + 0.4 * unit(seed, app_id, i, 0xE2)),
        )
        for i, (n, w, ms) in enumerate(_ENDPOINT_POOL)
        if n in _ALWAYS or unit(seed, app_id, i, 0xE0) < 0.8
    ]
    weight = sum(w for _, _, w, _ in kept)
    time_weight = sum(w * ms for _, _, w, ms in kept)
    endpoints = tuple(
        EndpointModel(
            index=i,
            name=n,
            share=w / weight,
            time_share=w * ms / time_weight,
            source=Source(
                seed=seed,
                app_id=app_id,
                name=n,
                volume=volume * w / weight,
                duration_ms=ms,
                error_rate=error_rate * (0.2 + 2 * unit(seed, app_id, i, 0xE3)),
                sensitivity=0.3 + 0.7 * unit(seed, app_id, i, 0xE4),
            ),
        )
        for i, n, w, ms in kept
    )
    jobs = tuple(_job(seed, app_id, i, q, n, w, ms) for i, (q, n, w, ms) in enumerate(_JOB_POOL))
    # The app's own response time is the request-weighted mean over its endpoints.
    duration = time_weight / weight
    source = Source(
        seed=seed,
        app_id=app_id,
        name="",
        volume=volume,
        duration_ms=duration,
        error_rate=error_rate,
    )
    return AppModel(
        id=app_id, name=name, source=source, endpoints=endpoints, jobs=jobs, metrics=metrics
    )


class Catalog:
    """The apps of one simulated account, each built once from the seed.

    ``metrics`` maps an app id to the metric names its ``/metrics`` listing gives (all of
    ``APP_METRICS`` for an app not in it). Adding an app or a job replaces ``apps`` (and the
    app) as a whole, so a server thread reading the catalog meanwhile sees it before or after.
    """

    def __init__(
        self,
        seed: int,
        apps: Sequence[tuple[int, str]],
        metrics: Mapping[int, Sequence[str]] | None = None,
    ) -> None:
        self.seed = seed
        self._metrics = {app_id: tuple(names) for app_id, names in (metrics or {}).items()}
        self.apps: dict[int, AppModel] = {
            app_id: self._build(app_id, name) for app_id, name in apps
        }

    def _build(self, app_id: int, name: str) -> AppModel:
        return _build_app(self.seed, app_id, name, self._metrics.get(app_id, APP_METRICS))

    def app(self, app_id: int) -> AppModel | None:
        return self.apps.get(app_id)

    def add_app(self, app_id: int, name: str) -> AppModel:
        """Build app ``app_id`` from the seed and add it; ``ValueError`` if it exists."""
        if app_id in self.apps:
            raise ValueError(f"app {app_id} already exists")
        app = self._build(app_id, name)
        self.apps = {**self.apps, app_id: app}
        return app

    def add_job(self, app_id: int, full_name: str) -> JobModel:
        """Give app ``app_id`` one more job, ``queue/ClassName``; its data comes from the seed.

        The jobs already there keep their figures (their ``time_consumed`` shares no longer
        add up to exactly 1).
        """
        app = self.apps.get(app_id)
        if app is None:
            raise LookupError(f"no app {app_id} in the simulated account")
        queue, _, name = full_name.partition("/")
        if not queue or not name:
            raise ValueError(f"a job's full name is queue/ClassName, got {full_name!r}")
        if any(job.full_name == full_name for job in app.jobs):
            raise ValueError(f"app {app_id} already has the job {full_name!r}")
        if len(app.jobs) >= MAX_JOBS:
            raise ValueError(f"an app holds at most {MAX_JOBS} jobs")
        weight, ms = _ADDED_JOB
        job = _job(self.seed, app_id, len(app.jobs), queue, name, weight, ms)
        self.apps = {**self.apps, app_id: attrs.evolve(app, jobs=(*app.jobs, job))}
        return job
