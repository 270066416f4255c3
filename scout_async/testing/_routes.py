"""The documented endpoints: a small router over path segments and one handler per route.

Routing works on the raw, still percent-encoded path split at "/": endpoint and job ids are base64
and may contain "/", which a client sends as %2F. A router on the decoded path (Starlette's) would
see an extra segment there.

Each behaviour names its evidence: "documented" (Scout's FAQ, its openapi.yaml, the API notes in
shared/scout-api/README.md that quote them), "observed" (Scout's own clients: the Go CLI
scoutapp/scout-cli, scoutapp/scout-mcp-local, and the Ruby amkisko/scout_apm_mcp.rb, file named),
or "assumed". docs/scout-api.md lists them all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote

import attrs

from ._anomalies import anomaly_detail, anomaly_events, anomaly_summary, find_anomaly
from ._catalog import AppModel, Catalog
from ._envelope import ApiError
from ._error_groups import (
    error_group_detail,
    error_group_summary,
    error_groups,
    errors_of,
    find_group,
)
from ._facts import APP_METRICS, INSIGHT_TYPES, JOB_METRICS
from ._insights import HistoryPage, current_insights, history_page, insight_timeframe
from ._metric_data import (
    NO_GAPS,
    Gaps,
    Source,
    bucket_starts,
    filling_bucket,
    job_series_results,
    series_results,
)
from ._noise import mix
from ._rules import (
    ERROR_LOOKBACK,
    TRACE_LOOKBACK,
    BandEdges,
    decode_id,
    decode_job_id,
    format_billing_time,
    step_for_window,
)
from ._timeframe import read_timeframe
from ._traces import find_trace, list_traces, trace_detail, trace_summary

__all__ = ["Call", "dispatch"]

# Assumed: Scout's wording for bad non-time parameters is not documented; 422 is what its spec
# lists for the operations that take them.
_BAD_PARAMETERS = "Invalid parameters"
# Documented: openapi.yaml, EndpointSortBy (descending by the field; time_consumed is the
# listing's percentage_of_total, assumed).
_SORT_KEYS = {
    "time_consumed": "percentage_of_total",
    "response_time": "response_time",
    "throughput": "throughput",
    "error_rate": "error_rate",
}


@attrs.frozen
class Call:
    """What a handler may look at: the account, the clock, the query, the variants (the `to`
    bucket, how gaps show, the band edges), the apps that never reported and any forced step."""

    catalog: Catalog
    now: datetime
    query: Mapping[str, str]
    retention: timedelta
    inclusive_end: bool
    step: timedelta | None = None
    gaps: Gaps = NO_GAPS
    band_edges: BandEdges = "inclusive"
    unreported: frozenset[int] = frozenset()


Handler = Callable[[Call, dict[str, str]], Any]
_ROUTES: list[tuple[tuple[str, ...], Handler]] = []


def _route(pattern: str) -> Callable[[Handler], Handler]:
    segments = tuple(pattern.strip("/").split("/"))

    def register(handler: Handler) -> Handler:
        _ROUTES.append((segments, handler))
        return handler

    return register


def dispatch(call: Call, raw_path: str) -> Any:
    """The `results` for ``raw_path`` (after the API prefix), or ``ApiError``: 404 "Record Not
    Found" for a path or record that is not there (API notes, quirk 2)."""
    parts = raw_path.strip("/").split("/") if raw_path.strip("/") else []
    for pattern, handler in _ROUTES:
        if len(pattern) != len(parts):
            continue
        params: dict[str, str] = {}
        for want, got in zip(pattern, parts, strict=True):
            if want.startswith("{"):
                params[want[1:-1]] = unquote(got)
            elif want != got:
                break
        else:
            return handler(call, params)
    raise ApiError(404)


_DIGITS = re.compile(r"^[0-9]{1,18}$")


def _id(text: str) -> int:
    if not _DIGITS.match(text):
        raise ApiError(404)
    return int(text)


def _app(call: Call, params: dict[str, str]) -> AppModel:
    app = call.catalog.app(_id(params["app_id"]))
    if app is None:
        raise ApiError(404)
    return app


def _query_int(call: Call, name: str, default: int | None, minimum: int) -> int | None:
    text = call.query.get(name)
    if text is None:
        return default
    try:
        number = int(text)
    except ValueError:
        raise ApiError(422, _BAD_PARAMETERS) from None
    if number < minimum:
        raise ApiError(422, _BAD_PARAMETERS)
    return number


def _buckets(call: Call, metric: str, metrics: tuple[str, ...]) -> range:
    if metric not in metrics:
        raise ApiError(404)
    frame = read_timeframe(call.query, now=call.now)
    step = call.step or step_for_window(frame.length, call.band_edges)
    return bucket_starts(
        start=frame.start,
        end=frame.end,
        step=step,
        now=call.now,
        retention=call.retention,
        inclusive_end=call.inclusive_end,
    )


def _series(call: Call, source: Source, metric: str, metrics: tuple[str, ...]) -> Any:
    buckets = _buckets(call, metric, metrics)
    filling = filling_bucket(call.now, timedelta(seconds=buckets.step))
    return series_results(source, metric, buckets, call.gaps, filling=filling)


# -- apps and app metrics ----------------------------------------------------------------------


# Documented: the FAQ and the API notes' table (`{apps: [{id, name, last_reported_at?}]}`);
# observed: Scout's Go CLI test/fixtures/apps_list.json.
@_route("/apps")
def _apps(call: Call, params: dict[str, str]) -> Any:
    apps = call.catalog.apps.values()
    return {"apps": [app.listing(call.now, reported=app.id not in call.unreported) for app in apps]}


@_route("/apps/{app_id}")
def _app_detail(call: Call, params: dict[str, str]) -> Any:
    app = _app(call, params)
    return {"app": app.listing(call.now, reported=app.id not in call.unreported)}


# Documented: the FAQ's list of metrics, openapi.yaml `availableMetrics`.
@_route("/apps/{app_id}/metrics")
def _app_metrics(call: Call, params: dict[str, str]) -> Any:
    return {"availableMetrics": list(_app(call, params).metrics)}


# Documented: the FAQ (from, to; at most 2 weeks; the step table). Observed: the shape, in Scout's
# Go CLI test/fixtures/metrics.json ([iso, number] pairs, a plain-number summary; quirk 1).
@_route("/apps/{app_id}/metrics/{metric}")
def _app_metric(call: Call, params: dict[str, str]) -> Any:
    app = _app(call, params)
    return _series(call, app.source, params["metric"], APP_METRICS)


# -- endpoints ---------------------------------------------------------------------------------


# Documented: openapi.yaml listEndpoints (a bare list, or with sort_by/limit/offset the
# paginated object with count, total_count, has_more; quirk 5). Observed: the fields, in Scout's
# Go CLI test/fixtures/endpoints.json.
@_route("/apps/{app_id}/endpoints")
def _endpoints(call: Call, params: dict[str, str]) -> Any:
    app = _app(call, params)
    frame = read_timeframe(call.query, now=call.now)
    listing = [e.listing(app.id, frame.start, frame.end) for e in app.endpoints]
    if not any(name in call.query for name in ("sort_by", "limit", "offset")):
        return listing  # the bare list, as before pagination existed (quirk 5)
    sort_by = call.query.get("sort_by")
    if sort_by is not None:
        if sort_by not in _SORT_KEYS:
            raise ApiError(422, _BAD_PARAMETERS)
        listing.sort(key=lambda e: e[_SORT_KEYS[sort_by]], reverse=True)
    offset = _query_int(call, "offset", 0, 0) or 0
    limit = _query_int(call, "limit", None, 1)
    page = listing[offset:] if limit is None else listing[offset : offset + limit]
    return {
        "endpoints": page,
        "count": len(page),
        "total_count": len(listing),
        "has_more": offset + len(page) < len(listing),
    }


def _endpoint(app: AppModel, params: dict[str, str]) -> Any:
    endpoint = app.endpoint(params["endpoint_id"])
    if endpoint is None:
        raise ApiError(404)
    return endpoint


@_route("/apps/{app_id}/endpoints/{endpoint_id}/metrics/{metric}")
def _endpoint_metric(call: Call, params: dict[str, str]) -> Any:
    endpoint = _endpoint(_app(call, params), params)
    return _series(call, endpoint.source, params["metric"], APP_METRICS)


# Documented: traces within the last 7 days, at most 100 (API notes, table and quirk 4).
@_route("/apps/{app_id}/endpoints/{endpoint_id}/traces")
def _endpoint_traces(call: Call, params: dict[str, str]) -> Any:
    endpoint = _endpoint(_app(call, params), params)
    frame = read_timeframe(call.query, now=call.now, lookback=TRACE_LOOKBACK)
    refs = list_traces(endpoint, frame.start, frame.end, call.now)
    return {"traces": [trace_summary(ref) for ref in refs]}


# Observed: a job trace's id has no detail, 404 (Scout's Go CLI CHANGELOG: "`scout traces show` on
# a 404 now explains that background job traces have no detail endpoint"). Assumed: a trace past
# metric retention is gone.
@_route("/apps/{app_id}/traces/{trace_id}")
def _trace(call: Call, params: dict[str, str]) -> Any:
    app = _app(call, params)
    ref = find_trace(app, _id(params["trace_id"]), call.now, call.retention)
    if ref is None:
        raise ApiError(404)
    return {"trace": trace_detail(ref)}


# -- jobs --------------------------------------------------------------------------------------


# Observed: a bare list (Scout's Go CLI internal/api/jobs_test.go, test/fixtures/jobs.json).
@_route("/apps/{app_id}/jobs")
def _jobs(call: Call, params: dict[str, str]) -> Any:
    app = _app(call, params)
    read_timeframe(call.query, now=call.now)
    return [job.listing() for job in app.jobs]


def _job(app: AppModel, params: dict[str, str]) -> Any:
    """The job a metric path names; ``None`` for a well-formed id of no job.

    An id that is no base64 of ``queue/JobName`` gets a bare HTTP 500 (Scout's Go CLI,
    cmd/jobs.go, ``resolveJobID``: the server "answers an unrecognized id with a bare 500").
    """
    if decode_job_id(params["job_id"]) is None:
        raise ApiError(500, bare=True)
    return app.job(params["job_id"])


@_route("/apps/{app_id}/jobs/{job_id}/metrics")
def _job_metrics(call: Call, params: dict[str, str]) -> Any:
    # The names do not depend on the job: a well-formed id of no job gets them too (assumed).
    _job(_app(call, params), params)
    return {"availableMetrics": list(JOB_METRICS)}


@_route("/apps/{app_id}/jobs/{job_id}/metrics/{metric}")
def _job_metric(call: Call, params: dict[str, str]) -> Any:
    job = _job(_app(call, params), params)
    metric = params["metric"]
    buckets = _buckets(call, metric, JOB_METRICS)
    if job is None:
        # A well-formed id of no job: an empty series (Scout's Go CLI, internal/api/jobs_test.go,
        # "unknown job empty flat series": {"summaries":{"throughput":0.0},"series":{...: []}}).
        return {"summaries": {metric: 0.0}, "series": {metric: []}}
    return job_series_results(
        job.source,
        metric,
        buckets,
        name=job.name,
        full_name=job.full_name,
        gaps=call.gaps,
        filling=filling_bucket(call.now, timedelta(seconds=buckets.step)),
    )


@_route("/apps/{app_id}/jobs/{job_id}/traces")
def _job_traces(call: Call, params: dict[str, str]) -> Any:
    # Any id of no job, well-formed or not: 404 "Job not found" (Scout's Go CLI,
    # internal/api/jobs_test.go, TestListJobTracesNotFound).
    job = _app(call, params).job(params["job_id"])
    if job is None:
        raise ApiError(404, "Job not found")
    frame = read_timeframe(call.query, now=call.now, lookback=TRACE_LOOKBACK)
    refs = list_traces(job, frame.start, frame.end, call.now)
    return {"traces": [trace_summary(ref) for ref in refs]}


# -- errors and anomalies ----------------------------------------------------------------------


# Documented: within 30 days, at most 100 (API notes); the `endpoint` filter is "Base64
# URL-encoded endpoint or job filter" (openapi.yaml).
@_route("/apps/{app_id}/error_groups")
def _error_groups(call: Call, params: dict[str, str]) -> Any:
    app = _app(call, params)
    frame = read_timeframe(call.query, now=call.now, lookback=ERROR_LOOKBACK)
    where: str | None = None
    if "endpoint" in call.query:
        # Assumed: an id that does not decode names nothing, so it filters everything out.
        where = decode_id(call.query["endpoint"]) or "\x00"
    groups = error_groups(app, frame.start, frame.end, call.now, where)
    return {"error_groups": [error_group_summary(g) for g in groups]}


def _group(call: Call, params: dict[str, str]) -> Any:
    group = find_group(_app(call, params), _id(params["group_id"]), call.now)
    if group is None:
        raise ApiError(404)
    return group


@_route("/apps/{app_id}/error_groups/{group_id}")
def _error_group(call: Call, params: dict[str, str]) -> Any:
    return {"error_group": error_group_detail(_group(call, params))}


@_route("/apps/{app_id}/error_groups/{group_id}/errors")
def _errors(call: Call, params: dict[str, str]) -> Any:
    return {"errors": errors_of(_group(call, params))}


# Documented: within 30 days; `state` open|closed|all (default all), `metric`, `endpoint`
# (openapi.yaml). Observed: the endpoint filter matches the scoped name (``_anomalies``).
@_route("/apps/{app_id}/anomaly_events")
def _anomaly_events(call: Call, params: dict[str, str]) -> Any:
    app = _app(call, params)
    frame = read_timeframe(call.query, now=call.now, lookback=ERROR_LOOKBACK)
    state = call.query.get("state", "all")
    if state not in ("open", "closed", "all"):
        raise ApiError(422, _BAD_PARAMETERS)
    events = anomaly_events(
        app,
        frame.start,
        frame.end,
        call.now,
        state=state,
        metric=call.query.get("metric"),
        endpoint=call.query.get("endpoint"),
    )
    return {"anomaly_events": [anomaly_summary(e, call.now) for e in events]}


@_route("/apps/{app_id}/anomaly_events/{event_id}")
def _anomaly_event(call: Call, params: dict[str, str]) -> Any:
    event = find_anomaly(_app(call, params), _id(params["event_id"]), call.now)
    if event is None:
        raise ApiError(404)
    return {"anomaly_event": anomaly_detail(event, call.now)}


# -- insights ----------------------------------------------------------------------------------


# Documented: openapi.yaml getInsightsHistory (limit default 10, pagination_cursor an insight id,
# pagination_direction forward|backward default forward, pagination_page default 1). What a
# backward page holds is assumed (``_insights.history_page``).
def _history(call: Call, app: AppModel, kind: str | None) -> Any:
    frame = read_timeframe(call.query, now=call.now)
    direction = call.query.get("pagination_direction", "forward")
    if direction not in ("forward", "backward"):
        raise ApiError(422, _BAD_PARAMETERS)
    page = HistoryPage(
        limit=_query_int(call, "limit", 10, 1) or 10,
        cursor=_query_int(call, "pagination_cursor", None, 0),
        direction=direction,
        page=_query_int(call, "pagination_page", 1, 1) or 1,
    )
    return history_page(app, frame.start, frame.end, call.now, kind, page)


# Registered before `/insights/{type}` so that "history" is not read as a type.
@_route("/apps/{app_id}/insights/history")
def _insights_history(call: Call, params: dict[str, str]) -> Any:
    return _history(call, _app(call, params), None)


@_route("/apps/{app_id}/insights/history/{type}")
def _insights_history_of(call: Call, params: dict[str, str]) -> Any:
    app = _app(call, params)
    if params["type"] not in INSIGHT_TYPES:
        raise ApiError(404)
    return _history(call, app, params["type"])


# Documented: openapi.yaml getAllInsights (limit per type, default 20; "cached for 5 minutes").
@_route("/apps/{app_id}/insights")
def _insights(call: Call, params: dict[str, str]) -> Any:
    app = _app(call, params)
    limit = _query_int(call, "limit", 20, 1) or 20
    return {
        "timeframe": insight_timeframe(call.now),
        "insights": {kind: current_insights(app, kind, call.now, limit) for kind in INSIGHT_TYPES},
    }


@_route("/apps/{app_id}/insights/{type}")
def _insights_of(call: Call, params: dict[str, str]) -> Any:
    app = _app(call, params)
    kind = params["type"]
    if kind not in INSIGHT_TYPES:
        raise ApiError(404)
    limit = _query_int(call, "limit", 20, 1) or 20
    current = current_insights(app, kind, call.now, limit)
    return {
        "timeframe": insight_timeframe(call.now),
        "total_count": current["count"],
        "insight_type": kind,
        "new_count": current["new_count"],
        "items": current["items"],
    }


# -- usage -------------------------------------------------------------------------------------


@_route("/usage")
def _usage(call: Call, params: dict[str, str]) -> Any:
    """The organization's usage this billing period (a calendar month here).

    Undocumented in the spec; the shape is the one Scout's own CLI reads (observed:
    internal/api/types.go OrgUsage, cmd/billing_test.go): ``billing_period``, ``pricing_style``,
    ``apm``, ``nodes`` (per-node pricing), ``errors`` and ``logs``. The figures are synthetic.
    """
    now = call.now
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    minutes = (now - start).total_seconds() / 60
    apps = list(call.catalog.apps.values())
    # About 0.8 of the average-hour volume once nights and weekends are averaged in.
    served = [app.source.volume * minutes * 0.8 for app in apps]
    errors = sum(int(n * app.source.error_rate) for n, app in zip(served, apps, strict=True))
    nodes = sum(2 + mix(app.source.seed, app.id, 0x40DE) % 4 for app in apps)
    return {
        "billing_period": {"start": format_billing_time(start), "end": format_billing_time(end)},
        "pricing_style": "per node",
        "apm": {"total_transactions": int(sum(served)), "limit": 25_000_000 * max(1, len(apps))},
        "nodes": {"active_count": nodes},
        "errors": {"count": errors, "limit": 1_000_000},
        "logs": {"bytes_used": int(minutes * 60 * 3_500 * len(apps)), "limit_bytes": 10**12},
    }
