"""``client.traces``: sampled traces of an endpoint or a job, and one trace with its span tree."""

from __future__ import annotations

from datetime import datetime
from typing import overload

from .._core import Core
from .._exceptions import ArgumentError
from ..types._models import JobTrace, Listing, Trace, TraceSummary
from .checks import check_flag, check_id, check_string_id, path_segment
from .names import check_job_id
from .shape import field, parse
from .windows import TRACE_LOOKBACK, list_in_windows, lookback_window

__all__ = ["Traces"]


class Traces:
    def __init__(self, core: Core) -> None:
        self._core = core

    @overload
    async def list(
        self,
        app_id: int,
        *,
        endpoint_id: str,
        start: datetime,
        end: datetime,
        clamp: bool = False,
    ) -> Listing[TraceSummary]: ...

    @overload
    async def list(
        self,
        app_id: int,
        *,
        job_id: str,
        start: datetime,
        end: datetime,
        clamp: bool = False,
    ) -> Listing[JobTrace]: ...

    async def list(
        self,
        app_id: int,
        *,
        endpoint_id: str | None = None,
        job_id: str | None = None,
        start: datetime,
        end: datetime,
        clamp: bool = False,
    ) -> Listing[TraceSummary] | Listing[JobTrace]:
        """Sampled traces of an endpoint (``endpoint_id=Endpoint.id``) or of a background job
        (``job_id=Job.id``) in ``[start, end)``, newest first.

        Scout serves traces of the last 7 days only: an older ``start`` is an ``ArgumentError``
        before any request, or with ``clamp=True`` is moved up to the earliest allowed instant
        (now - 7 days + 1 minute). Scout returns at most 100 traces per request: ``capped`` on
        the result says it did (there may be more: narrow the window). A ``job_id`` that is not
        base64 of a ``queue/JobName`` raises ``NotFoundError`` before any request (Scout answers
        it with a bare HTTP 500).

        >>> now = datetime.now(timezone.utc)
        >>> traces = await client.traces.list(
        ...     101, endpoint_id=endpoint.id, start=now - timedelta(days=7), end=now, clamp=True
        ... )
        >>> slowest = max(traces, key=lambda t: t.total_call_time or 0)
        >>> job_traces = await client.traces.list(101, job_id=job.id, start=t0, end=now)
        """
        check_id(app_id)
        if (endpoint_id is None) == (job_id is None):
            raise ArgumentError("pass exactly one of endpoint_id or job_id")
        start_utc, end_utc = lookback_window(
            start,
            end,
            now=self._core.clock.now(),
            lookback=TRACE_LOOKBACK,
            what="traces",
            clamp=check_flag(clamp, "clamp"),
        )
        if endpoint_id is not None:
            segment = path_segment(check_string_id(endpoint_id, "endpoint_id"))
            return await list_in_windows(
                self._core,
                f"/apps/{app_id}/endpoints/{segment}/traces",
                "traces",
                TraceSummary,
                start_utc,
                end_utc,
                key=lambda trace: trace.id,
                time=lambda trace: trace.time,
            )
        check_string_id(job_id, "job_id")
        segment = path_segment(str(job_id))
        path = f"/apps/{app_id}/jobs/{segment}/traces"
        check_job_id(job_id, "job_id", path)
        return await list_in_windows(
            self._core,
            path,
            "traces",
            JobTrace,
            start_utc,
            end_utc,
            key=lambda trace: trace.id,
            time=lambda trace: trace.time,
        )

    async def get(self, app_id: int, trace_id: int) -> Trace:
        """One trace with its spans, flat (``spans``) and as a tree (``root_spans``, each span's
        ``children``).

        >>> trace = await client.traces.get(101, traces[0].id)
        >>> [(span.operation, span.duration_s) for span in trace.root_spans[0].children]
        """
        path = f"/apps/{check_id(app_id)}/traces/{check_id(trace_id, 'trace_id')}"
        results = await self._core.get(path)
        return parse(field(results, "trace", dict, path), Trace, path)
