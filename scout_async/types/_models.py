"""The models: frozen, slotted attrs classes free of serialization rules (``_convert`` parses
them through an explicit registry).

Tolerant by design: unknown fields are ignored, optional fields default to ``None``, and
enum-like fields (``status``, ``direction``, ``severity``, ``insight_type``, ...) are plain ``str``
with their known values documented, so a value Scout adds later never fails. Field names are
Scout's, except where noted (``Endpoint.p95`` for ``95th_percentile``).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import unquote

import attrs

from ._points import Point, Points, as_points

if TYPE_CHECKING:
    import pandas
    import polars
    import pyarrow

__all__ = [
    "App",
    "Listing",
    "Page",
    "Point",
    "Points",
    "Series",
    "AnomalyDeploy",
    "AnomalyEvent",
    "AnomalySmartMonitor",
    "ApmUsage",
    "BillingPeriod",
    "Endpoint",
    "ErrorGroup",
    "ErrorOccurrence",
    "ErrorUsage",
    "Insight",
    "InsightGroup",
    "InsightTimeframe",
    "InsightsOverview",
    "Job",
    "JobTrace",
    "LogUsage",
    "NodeUsage",
    "Span",
    "Trace",
    "TraceSummary",
    "Usage",
]


@attrs.frozen
class App:
    """An application reporting to Scout.

    ``last_reported_at`` is ``None`` when Scout sends none, or an empty string (an app that has
    not reported: Scout's clients guard against ``""``).

    >>> app = await client.apps.get(101)
    >>> app.name, app.last_reported_at
    """

    id: int
    name: str
    last_reported_at: datetime | None = None


@attrs.frozen
class Series:
    """A metric series at one step, in strictly increasing time, each grid bucket at most once.

    ``points`` is columnar (``Points``): ``series.times`` and ``series.values`` are its arrays
    (epoch seconds, float64 with ``NaN`` for a missing value), and ``Point`` objects are made
    only when you index or iterate ``points``. A list of ``Point`` passed in is converted.

    ``summary`` is Scout's own summary number when the window took a single request; for a window
    split into several requests it is ``None`` (Scout does not document how it aggregates, so the
    client does not pretend to).

    ``partial_from`` is set only for ``metrics.get(..., partial=True)``: the start of the first
    bucket in ``points`` that had not closed yet (it ended less than the lateness before the
    client's clock; Scout reports such a bucket before it is complete, typically as 0). By
    default a series holds closed buckets only, and ``partial_from`` is ``None``.
    """

    app_id: int
    metric: str
    step: timedelta
    points: Points = attrs.field(converter=as_points)
    summary: float | None = None
    partial_from: datetime | None = None

    @property
    def times(self) -> memoryview:
        """Bucket starts as whole seconds since 1970-01-01 UTC (int64, read-only, no copy)."""
        return self.points.times

    @property
    def values(self) -> memoryview:
        """Values as float64, ``NaN`` where Scout sent none (read-only, no copy)."""
        return self.points.values

    def to_arrow(self) -> pyarrow.Table:
        """The series as a ``pyarrow.Table`` (``time`` timestamp[s, UTC], ``value`` float64 with
        nulls); needs ``pip install 'scout-async[arrow]'``. See ``scout_async.frames``."""
        from ..frames import to_arrow

        return to_arrow(self)

    def to_pandas(self) -> pandas.DataFrame:
        """The series as a pandas ``DataFrame`` indexed by aware UTC time; needs
        ``pip install 'scout-async[pandas]'``. See ``scout_async.frames``."""
        from ..frames import to_pandas

        return to_pandas(self)

    def to_polars(self) -> polars.DataFrame:
        """The series as a polars ``DataFrame`` (``time`` Datetime UTC, ``value``); needs
        ``pip install 'scout-async[polars]'``. See ``scout_async.frames``."""
        from ..frames import to_polars

        return to_polars(self)


T = TypeVar("T")


class Listing(list[T], Generic[T]):
    """A list of records, plus what Scout said about the ones it left out.

    ``capped`` is true when Scout stopped at its limit of 100 records in at least one request of
    the call (traces, error groups, errors, anomaly events): there may be more than listed, so
    narrow the window (or the filter) to see them. ``total_count`` is Scout's own total, where it
    sends one. A ``Listing`` is a ``list``: it compares, slices and serializes as one.

    >>> groups = await client.errors.list(101, start=t0, end=t1)
    >>> if groups.capped:
    ...     print("more than", len(groups), "groups: narrow the window")
    """

    capped: bool
    total_count: int | None

    def __init__(
        self, items: Iterable[T] = (), *, capped: bool = False, total_count: int | None = None
    ) -> None:
        super().__init__(items)
        self.capped = capped
        self.total_count = total_count

    def __repr__(self) -> str:
        items = list.__repr__(self)
        return f"Listing({items}, capped={self.capped}, total_count={self.total_count})"


@attrs.frozen
class Page(Generic[T]):
    """One page of a paged listing, with Scout's paging figures.

    ``has_more`` says another page follows; ``total_count`` is Scout's total across all pages and
    ``count`` the size of this page, where Scout sends them. For insights history, ``cursor``
    (and ``next_page``) is what to pass to get the following page in the same direction.

    >>> page = await client.endpoints.page(101, start=t0, end=t1, limit=20)
    >>> page.total_count, len(page.items), page.has_more
    """

    items: list[T]
    has_more: bool
    total_count: int | None = None
    count: int | None = None
    cursor: int | str | None = None
    next_page: int | None = None


def _base64(text: str) -> str:
    return base64.b64encode(text.encode()).decode("ascii")


def _urlsafe_base64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode("ascii")


# -- endpoints and jobs ------------------------------------------------------------------------


@attrs.frozen
class Endpoint:
    """An endpoint's performance over the listed window.

    ``id`` is what the endpoint calls take (``metrics.get(endpoint_id=)``,
    ``traces.list(endpoint_id=)``, the ``endpoint`` filter of ``errors.list``): the part of
    ``link`` after ``/endpoints/``, which is the standard base64 of ``name``, padding included
    (``YXBpL21ldHJpY3Mvc2hvdw==``). Without a ``link`` it is computed from ``name``. ``p95`` is
    Scout's ``95th_percentile`` (ms); ``response_time`` is in ms, ``throughput`` in requests per
    minute, ``error_rate`` a fraction. ``max_allocations`` is a number as sent (Scout sends
    fractions too: ``1.7``).

    >>> endpoint = (await client.endpoints.list(101, start=t0, end=t1))[0]
    >>> endpoint.name, endpoint.id, endpoint.p95
    ('api/metrics/show', 'YXBpL21ldHJpY3Mvc2hvdw==', 396.1)
    """

    name: str
    link: str | None = None
    formatted_method_name: str | None = None
    response_time: float | None = None
    p95: float | None = None
    throughput: float | None = None
    error_rate: float | None = None
    percentage_of_total: float | None = None
    max_allocations: float | None = None
    id: str = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "id", _endpoint_id(self.link, self.name))


def _endpoint_id(link: str | None, name: str) -> str:
    # Everything after "/endpoints/", not just the last segment: a base64 id may itself hold "/"
    # (and a link may carry it percent-encoded).
    marker = "/endpoints/"
    if link and marker in link:
        tail = unquote(link.split(marker, 1)[1].split("?", 1)[0])
        if tail:
            return tail
    return _base64(name)


@attrs.frozen
class Job:
    """A background job's performance over the listed window.

    ``id`` is what the job calls take: Scout's ``job_id`` (the URL-safe base64 of
    ``queue/JobName``, padding included), or that computed from ``full_name`` when the answer
    has none. ``execution_time`` is in ms,
    ``throughput`` in jobs per minute, ``latency`` the queue latency in seconds,
    ``time_consumed`` a fraction of all job time.

    >>> job = (await client.jobs.list(101, start=t0, end=t1))[0]
    >>> job.full_name, job.id
    ('default/MyWorker', 'ZGVmYXVsdC9NeVdvcmtlcg==')
    """

    full_name: str
    name: str | None = None
    queue: str | None = None
    job_id: str | None = None
    throughput: float | None = None
    execution_time: float | None = None
    time_consumed: float | None = None
    latency: float | None = None
    id: str = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "id", self.job_id or _urlsafe_base64(self.full_name))


# -- traces ------------------------------------------------------------------------------------


@attrs.frozen
class TraceSummary:
    """A sampled trace of an endpoint as listed (``total_call_time`` in ms, ``mem_delta`` in MB).

    >>> [t.id for t in await client.traces.list(101, endpoint_id=endpoint.id, start=t0, end=t1)]
    """

    id: int
    time: datetime | None = None
    total_call_time: float | None = None
    mem_delta: float | None = None
    metric_name: str | None = None
    uri: str | None = None
    context: dict[str, Any] | None = None


@attrs.frozen
class JobTrace:
    """A sampled trace of a background job as listed (``duration`` in ms, as Scout's CLI reads it).

    >>> [t.duration for t in await client.traces.list(101, job_id=job.id, start=t0, end=t1)]
    """

    id: int
    time: datetime | None = None
    duration: float | None = None
    name: str | None = None
    queue: str | None = None
    metric_name: str | None = None
    context: dict[str, Any] | None = None


@attrs.frozen
class Span:
    """One span of a trace. ``children`` are its child spans, in the order Scout sent them.

    Ids are strings (Scout sends strings; integer ids are converted). ``operation`` is Scout's
    ``operation`` (a sender that calls it ``name`` is read the same way), ``description`` its
    ``description`` (or ``desc``): the SQL, URL, ... of the span.

    Durations are in **seconds**: ``duration_s`` (the span with its children) and
    ``exclusive_duration_s`` (without them) are read from Scout's ``duration_ms`` and
    ``exclusive_duration_ms``, which hold seconds despite their names (Scout's own CLI found the
    spans of an 83.5 s request reported as ``duration_ms: 83.48``). ``children`` is built by
    ``Trace`` from the parent ids and is left out of ``==`` and ``repr``.
    """

    id: str
    parent_id: str | None = None
    type: str | None = None
    operation: str | None = None
    description: str | None = None
    duration_s: float | None = None
    exclusive_duration_s: float | None = None
    allocations: int | None = None
    children: list[Span] = attrs.field(init=False, factory=list, eq=False, repr=False)


@attrs.frozen
class Trace:
    """One trace with its spans: ``spans`` flat, in the order sent, and as a tree.

    ``root_spans`` are the spans without a parent (or whose parent id names no span of the trace,
    or that sit on a cycle of parent ids); every other span is in its parent's ``children``.
    ``total_call_time`` is in ms, ``duration_in_seconds`` in seconds, ``mem_delta`` in MB.
    ``legacy_format`` is Scout's flag for a trace stored in its older format, which has no span
    tree (Scout's CLI then shows none); ``limited`` says Scout cut the spans short.

    >>> trace = await client.traces.get(101, 123456)
    >>> def walk(span, depth=0):
    ...     print("  " * depth, span.operation, span.duration_s)
    ...     for child in span.children:
    ...         walk(child, depth + 1)
    >>> for root in trace.root_spans:
    ...     walk(root)
    """

    id: int
    time: datetime | None = None
    total_call_time: float | None = None
    mem_delta: float | None = None
    metric_name: str | None = None
    uri: str | None = None
    context: dict[str, Any] | None = None
    transaction_id: str | None = None
    hostname: str | None = None
    git_sha: str | None = None
    allocations_count: int | None = None
    duration_in_seconds: float | None = None
    limited: bool | None = None
    legacy_format: bool | None = None
    spans: list[Span] = attrs.field(factory=list)
    root_spans: list[Span] = attrs.field(init=False, factory=list, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self.root_spans.extend(_link_spans(self.spans))


def _link_spans(spans: list[Span]) -> list[Span]:
    """Fill every span's ``children`` from the parent ids; return the roots, in order."""
    by_id: dict[str, Span] = {}
    for span in spans:
        by_id.setdefault(span.id, span)
        span.children.clear()
    roots: list[Span] = []
    for span in spans:
        parent = by_id.get(span.parent_id) if span.parent_id is not None else None
        if parent is None or _on_cycle(span, by_id):
            roots.append(span)
        else:
            parent.children.append(span)
    return roots


def _on_cycle(span: Span, by_id: dict[str, Span]) -> bool:
    """Whether following parent ids from ``span`` leads back to ``span`` itself."""
    seen: set[int] = set()
    current = span
    while current.parent_id is not None:
        parent = by_id.get(current.parent_id)
        if parent is span:
            return True
        if parent is None or id(parent) in seen:  # a root, or a cycle further up
            return False
        seen.add(id(parent))
        current = parent
    return False


# -- errors ------------------------------------------------------------------------------------


@attrs.frozen
class ErrorOccurrence:
    """One occurrence of an error; ``trace`` is its backtrace, one line per item.

    >>> for error in await client.errors.list_errors(101, group.id):
    ...     print(error.created_at, error.message, error.location)
    """

    id: int
    message: str | None = None
    name: str | None = None
    created_at: datetime | None = None
    location: str | None = None
    request_uri: str | None = None
    request_params: dict[str, Any] | None = None
    request_session: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    trace: list[str] = attrs.field(factory=list)


@attrs.frozen
class ErrorGroup:
    """A group of errors of one kind at one place.

    ``status`` is kept as sent (Scout does not document its values). ``request_components`` is
    kept as sent: Scout documents a list of strings but does not always send one (its own CLI
    reads it raw). ``latest_error`` is set by ``errors.get`` only.

    ``errors_count`` is ``None`` where Scout's figure is unknown: its detail answer
    (``errors.get``) reports 0 for every group, even one whose errors list is not empty (Scout's
    own CLI hides that 0), and a group exists only because errors happened, so a 0 is never
    passed on as a count. The listing (``errors.list``) carries the real figure.

    >>> groups = await client.errors.list(101, start=t0, end=t1)
    >>> detail = await client.errors.get(101, groups[0].id)
    >>> detail.latest_error.message, groups[0].errors_count
    """

    id: int
    name: str | None = None
    message: str | None = None
    status: str | None = None
    errors_count: int | None = None
    last_error_at: datetime | None = None
    request_components: Any = None
    request_uri: str | None = None
    app_environment: str | None = None
    latest_error: ErrorOccurrence | None = None


# -- anomalies ---------------------------------------------------------------------------------


@attrs.frozen
class AnomalySmartMonitor:
    """The smart monitor that raised an anomaly event (``severity_threshold`` in z-scores)."""

    id: int | None = None
    name: str | None = None
    kind: str | None = None
    severity_threshold: float | None = None
    duration_minutes: int | None = None


@attrs.frozen
class AnomalyDeploy:
    """The deploy Scout relates to an anomaly event."""

    id: int | None = None
    sha: str | None = None
    deployed_at: datetime | None = None


@attrs.frozen
class AnomalyEvent:
    """An anomaly Scout detected on a metric of the app or one endpoint.

    ``direction`` is ``high`` or ``low``, ``severity`` ``warning`` or ``critical`` (other values are
    kept as sent); ``ended_at`` is ``None`` while the event is open. ``endpoint`` is the scoped
    metric name Scout stores (``Controller/users/index``, ``Job/default/MyWorker``), or ``None``
    for an app-wide event. ``baseline_std_dev``,
    ``duration_minutes``, ``smart_monitor`` and ``deploy`` are set by ``anomalies.get`` only.

    >>> events = await client.anomalies.list(101, start=t0, end=t1, state="open")
    >>> [(e.metric, e.severity, e.multiplier) for e in events]
    """

    id: int
    metric: str | None = None
    endpoint: str | None = None
    direction: str | None = None
    severity: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    last_seen_at: datetime | None = None
    z_score: float | None = None
    current_value: float | None = None
    baseline_value: float | None = None
    multiplier: float | None = None
    open: bool | None = None
    description: str | None = None
    smart_monitor_id: int | None = None
    deploy_id: int | None = None
    baseline_std_dev: float | None = None
    duration_minutes: int | None = None
    smart_monitor: AnomalySmartMonitor | None = None
    deploy: AnomalyDeploy | None = None


# -- insights ----------------------------------------------------------------------------------


@attrs.frozen
class InsightTimeframe:
    """The window current insights were computed over (Scout caches them for 5 minutes)."""

    start_time: datetime | None = None
    end_time: datetime | None = None
    duration_minutes: int | None = None


@attrs.frozen
class Insight:
    """One insight: an N+1 query, a memory bloat or a slow query.

    ``fields`` holds the type-specific facts (``sql``, ``call_count``, ``allocations``, ...):
    Scout's ``fields`` object, or, for an item that sends them at the top level, every key not
    named here. ``trace`` is set on history items only.

    >>> for item in (await client.insights.get(101, "slow_query")).items:
    ...     print(item.metric_name, item.fields.get("sql"))
    """

    id: int | None = None
    insight_type: str | None = None
    name: str | None = None
    metric_name: str | None = None
    first_seen_at: datetime | None = None
    new: bool | None = None
    fields: dict[str, Any] = attrs.field(factory=dict)
    trace: Trace | None = None


@attrs.frozen
class InsightGroup:
    """The current insights of one type: how many, how many are new, and the first ``limit``.

    ``insight_type`` is ``n_plus_one``, ``memory_bloat`` or ``slow_query`` (others kept as sent).
    """

    insight_type: str | None = None
    count: int | None = None
    new_count: int | None = None
    items: list[Insight] = attrs.field(factory=list)
    timeframe: InsightTimeframe | None = None


@attrs.frozen
class InsightsOverview:
    """Every type's current insights, keyed by type (a type Scout adds later shows up too).

    >>> overview = await client.insights.list(101)
    >>> {kind: group.count for kind, group in overview.groups.items()}
    {'n_plus_one': 4, 'memory_bloat': 1, 'slow_query': 12}
    """

    timeframe: InsightTimeframe | None = None
    groups: dict[str, InsightGroup] = attrs.field(factory=dict)


# -- usage -------------------------------------------------------------------------------------


@attrs.frozen
class BillingPeriod:
    """The current billing period (Scout sends dates: midnight UTC)."""

    start: datetime | None = None
    end: datetime | None = None


@attrs.frozen
class ApmUsage:
    """APM transactions used in the period, and the plan's limit if it has one."""

    total_transactions: int | None = None
    limit: int | None = None


@attrs.frozen
class NodeUsage:
    """Billable nodes (per-node pricing only)."""

    active_count: int | None = None


@attrs.frozen
class ErrorUsage:
    """Errors tracked in the period, and the limit."""

    count: int | None = None
    limit: int | None = None


@attrs.frozen
class LogUsage:
    """Log bytes ingested in the period, and the limit if there is one."""

    bytes_used: int | None = None
    limit_bytes: int | None = None


@attrs.frozen
class Usage:
    """The organization's usage in the current billing period.

    The API does not document this answer; the typed fields follow Scout's own CLI, and ``raw``
    keeps the whole answer (anything else Scout sends is there). ``nodes`` is set for per-node
    pricing only.

    >>> usage = await client.usage.get()
    >>> usage.billing_period.end, usage.apm.total_transactions, usage.apm.limit
    """

    billing_period: BillingPeriod | None = None
    pricing_style: str | None = None
    apm: ApmUsage | None = None
    nodes: NodeUsage | None = None
    errors: ErrorUsage | None = None
    logs: LogUsage | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
