"""``client.traces``: sampled traces of an endpoint, and one trace with its span tree."""

from __future__ import annotations

import builtins
from datetime import datetime

from .._models_api import Trace, TraceSummary
from .._transport import Transport
from ._params import check_flag, check_key
from ._shape import field, parse
from ._validate import check_id, path_segment
from ._windows import TRACE_LOOKBACK, list_in_windows, lookback_window

__all__ = ["Traces"]


class Traces:
    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def for_endpoint(
        self,
        app_id: int,
        endpoint_id: str,
        *,
        start: datetime,
        end: datetime,
        clamp: bool = False,
    ) -> builtins.list[TraceSummary]:
        """Sampled traces of an endpoint (``Endpoint.id``) in ``[start, end)``, newest first.

        Scout serves traces of the last 7 days only: an older ``start`` is a ``ValueError``
        before any request, or with ``clamp=True`` is moved up to the earliest allowed instant
        (now - 7 days + 1 minute). Scout returns at most 100 traces per request.

        >>> now = datetime.now(timezone.utc)
        >>> traces = await client.traces.for_endpoint(
        ...     101, endpoint.id, start=now - timedelta(days=7), end=now, clamp=True
        ... )
        >>> slowest = max(traces, key=lambda t: t.total_call_time or 0)
        """
        check_id(app_id)
        segment = path_segment(check_key(endpoint_id, "endpoint_id"))
        start_utc, end_utc = lookback_window(
            start, end, lookback=TRACE_LOOKBACK, what="traces", clamp=check_flag(clamp, "clamp")
        )
        return await list_in_windows(
            self._transport,
            f"/apps/{app_id}/endpoints/{segment}/traces",
            "traces",
            TraceSummary,
            start_utc,
            end_utc,
            key=lambda trace: trace.id,
            time=lambda trace: trace.time,
        )

    async def get(self, app_id: int, trace_id: int) -> Trace:
        """One trace with its spans, flat (``spans``) and as a tree (``root_spans``, each span's
        ``children``).

        >>> trace = await client.traces.get(101, traces[0].id)
        >>> [(span.operation, span.duration_ms) for span in trace.root_spans[0].children]
        """
        path = f"/apps/{check_id(app_id)}/traces/{check_id(trace_id, 'trace_id')}"
        results = await self._transport.get(path)
        return parse(field(results, "trace", dict, path), Trace, path)
