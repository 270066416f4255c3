"""``client.anomalies``: anomaly events Scout detected on an app's metrics."""

from __future__ import annotations

from datetime import datetime

from .._core import Core
from ..types._models import AnomalyEvent, Listing
from .checks import check_flag, check_id, check_optional_name, check_text
from .names import anomaly_endpoint
from .shape import field, parse
from .windows import ERROR_LOOKBACK, list_in_windows, lookback_window

__all__ = ["ANOMALY_STATES", "Anomalies"]

ANOMALY_STATES = ("open", "closed", "all")


class Anomalies:
    def __init__(self, core: Core) -> None:
        self._core = core

    async def list(
        self,
        app_id: int,
        *,
        start: datetime,
        end: datetime,
        state: str | None = None,
        metric: str | None = None,
        endpoint: str | None = None,
        clamp: bool = False,
    ) -> Listing[AnomalyEvent]:
        """The anomaly events overlapping ``[start, end)``, latest start first.

        ``state`` is ``open``, ``closed`` or ``all`` (Scout's default); ``metric`` a metric name
        such as ``response_time`` or ``error_rate`` (not checked here: Scout may add more).
        ``endpoint`` narrows them to one endpoint. Scout stores and matches the scoped metric
        name (``Controller/users/index``, as ``AnomalyEvent.endpoint`` shows it), so an
        endpoint's plain name (``Endpoint.name``, ``users/index``) or its ``Endpoint.id`` is sent
        scoped; a scoped name goes as is.

        Scout serves the last 30 days only: an older ``start`` is a ``ValueError`` before any
        request, or with ``clamp=True`` is moved up to the earliest allowed instant. A window over
        14 days is fetched as several requests, merged without duplicates (an event seen in two
        keeps the newer figures). Scout returns at most 100 events per request: ``capped`` on the
        result says it did.

        >>> events = await client.anomalies.list(101, start=t0, end=t1, endpoint="users/index")
        >>> [(e.metric, e.endpoint, e.severity) for e in events]
        [('error_rate', 'Controller/users/index', 'critical')]
        """
        check_id(app_id)
        params: dict[str, str] = {}
        if check_optional_name(state, ANOMALY_STATES, "state") is not None:
            params["state"] = str(state)
        if metric is not None:
            params["metric"] = check_text(metric, "metric")
        if endpoint is not None:
            params["endpoint"] = anomaly_endpoint(endpoint)
        start_utc, end_utc = lookback_window(
            start,
            end,
            now=self._core.clock.now(),
            lookback=ERROR_LOOKBACK,
            what="anomaly events",
            clamp=check_flag(clamp, "clamp"),
        )
        return await list_in_windows(
            self._core,
            f"/apps/{app_id}/anomaly_events",
            "anomaly_events",
            AnomalyEvent,
            start_utc,
            end_utc,
            key=lambda event: event.id,
            time=lambda event: event.started_at,
            params=params,
        )

    async def get(self, app_id: int, event_id: int) -> AnomalyEvent:
        """One anomaly event with its detail: ``smart_monitor``, ``deploy``, ``baseline_std_dev``.

        >>> event = await client.anomalies.get(101, events[0].id)
        >>> event.smart_monitor.name, event.deploy and event.deploy.sha
        """
        path = f"/apps/{check_id(app_id)}/anomaly_events/{check_id(event_id, 'event_id')}"
        results = await self._core.get(path)
        return parse(field(results, "anomaly_event", dict, path), AnomalyEvent, path)
