"""A dlt source for Scout APM (needs dlt: ``pip install 'scout-async[dlt]'``): load metric series,
apps, endpoints, error groups and anomalies into any destination dlt loads into (DuckDB locally;
PostgreSQL, BigQuery, Snowflake, Parquet on object storage, ...).

>>> import dlt
>>> from scout_async.dlt import scout_source
>>> pipeline = dlt.pipeline("scout_archive", destination="duckdb", dataset_name="scout")
>>> pipeline.run(scout_source(apps="all", metrics="all", resolution="1m"))  # run it every hour

Resources (tables):

* ``metric_points``: ``(app_id, metric, time, value)``, one row per bucket, merged on
  ``(app_id, metric, time)``. Incremental per series: the resource state keeps, for each
  ``app_id/metric``, the end of what was loaded; a run loads each series from there (or
  ``start``, by default ``lookback`` ago) up to the last complete bucket (``lateness`` ago),
  planned by the client's planner (``plan_range``: one step for the whole run, chunks on the
  step grid, each bucket owned once). A second run loads only the buckets completed since. The
  state is committed by dlt with the rows it covers. One source keeps one ``resolution``.
  ``backend="pyarrow"`` hands dlt an Arrow table a series instead of a dict a point; a pipeline
  keeps the backend it first loaded with (the state's ``backend``).
* ``apps``: ``client.apps.list()``, merged on ``id``.
* ``endpoints``: each app's endpoints summarized over the last ``endpoint_window`` (at most 14
  days, Scout's limit), merged on ``(app_id, id)``, with ``window_start``/``window_end``.
* ``error_groups``, ``anomalies``: each app's, over the last ``lookback`` (clamped to Scout's 30
  days), merged on ``(app_id, id)``.

``shard=(i, n)`` loads only the series of shard ``i`` of ``n`` (see ``backfill``): run ``n``
pipelines (with their own names, hence their own state) to split a large account.

Every request goes through one ``ScoutClient``, made by ``client`` (a factory, called once per
resource; by default ``ScoutClient(api_key=api_key, base_url=base_url)``, which reads
``SCOUT_API_KEY`` when no key is given) and driven on an event loop of its own, so the source
works from dlt's synchronous extraction.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal, Tuple  # noqa: UP035 - see the annotation of `shard` below

import anyio
import anyio.from_thread
import attrs

from . import frames
from ._bulk.selection import AppsArg, select
from ._client import ScoutClient
from ._constants import DEFAULT_LATENESS
from ._exceptions import ArgumentError, ArgumentTypeError
from ._resources.metrics import APP_METRICS
from ._series.planner import Chunk, plan_range
from ._series.steps import floor_to_grid, format_step, parse_step
from ._time import display_time, parse_time
from .types._models import Series

try:
    import dlt
except ImportError as exc:  # the one-line hint
    raise ImportError(
        "scout_async.dlt needs dlt, which is not installed: pip install 'scout-async[dlt]' "
        "(or pip install dlt)"
    ) from exc

__all__ = ["Backend", "ClientFactory", "scout_source"]

#: The resource state of ``metric_points``: ``{"resolution": "1m", "watermarks": {...}}``.
_WATERMARKS = "watermarks"
_MAX_ENDPOINT_WINDOW = timedelta(days=14)

ClientFactory = Callable[[], ScoutClient]
#: What ``metric_points`` yields: lists of rows, or Arrow tables.
Backend = Literal["rows", "pyarrow"]
_BACKENDS = ("rows", "pyarrow")


@dlt.source(name="scout")
def scout_source(
    apps: Any = "all",
    metrics: Any = "all",
    resolution: str = "1m",
    start: datetime | None = None,
    lookback: timedelta = timedelta(days=30),
    lateness: timedelta = DEFAULT_LATENESS,
    endpoint_window: timedelta = timedelta(days=1),
    # typing.Tuple: dlt reads this annotation to inject config, and on Python 3.10 it cannot
    # inspect the builtin generic tuple[int, int] (issubclass() arg 1 must be a class).
    shard: Tuple[int, int] | None = None,  # noqa: UP006
    api_key: str | None = dlt.secrets.value,
    base_url: str | None = None,
    client: ClientFactory | None = None,
    backend: Backend = "rows",
) -> Any:
    """The Scout source (see the module notes): ``metric_points``, ``apps``, ``endpoints``,
    ``error_groups`` and ``anomalies``. Arguments are checked now, before any request.

    ``apps``/``metrics``: ``"all"`` (listed when the source runs) or lists; ``resolution``: the
    step of every series (``"1m"`` is Scout's finest); ``start``: where a series not loaded yet
    begins (default: ``lookback`` ago, within Scout's ~30 days of retention); ``backend``: what
    ``metric_points`` hands dlt, ``"rows"`` (a dict a point) or ``"pyarrow"`` (an Arrow table a
    series, read from the series' arrays: several times less CPU; needs pyarrow. dlt then adds
    no ``_dlt_load_id`` column unless ``normalize.parquet_normalizer.add_dlt_load_id = true``).
    """
    selection = select(apps, metrics, shard)
    step = parse_step(resolution)
    if not isinstance(backend, str):
        raise ArgumentTypeError(
            f"backend must be 'rows' or 'pyarrow', got {type(backend).__name__}"
        )
    if backend not in _BACKENDS:
        raise ArgumentError(f"backend must be 'rows' or 'pyarrow', got {backend!r}")
    if backend == "pyarrow":
        frames._pyarrow("scout_source(backend='pyarrow')")
    if endpoint_window > _MAX_ENDPOINT_WINDOW or endpoint_window <= timedelta(0):
        raise ArgumentError(
            f"endpoint_window must be > 0 and at most 14 days, got {endpoint_window}"
        )
    make = client or (lambda: ScoutClient(api_key=api_key, base_url=base_url))
    apps_arg: AppsArg = "all" if selection.apps is None else list(selection.apps)

    @dlt.resource(
        name="metric_points",
        write_disposition="merge",
        primary_key=("app_id", "metric", "time"),
        columns={
            "app_id": {"data_type": "bigint", "nullable": False},
            "metric": {"data_type": "text", "nullable": False},
            "time": {"data_type": "timestamp", "timezone": True, "nullable": False},
            "value": {"data_type": "double", "nullable": True},
        },
    )
    def metric_points() -> Iterator[Any]:
        state = dlt.current.resource_state()
        kept = state.setdefault("resolution", format_step(step))
        if kept != format_step(step):
            raise ArgumentError(
                f"this pipeline loads metric_points at {kept}, not {format_step(step)}: pass "
                f"resolution={kept!r}, or use another pipeline (or dataset) for {format_step(step)}"
            )
        # dlt gives rows and Arrow tables different columns (``_dlt_load_id``, ``_dlt_id``): one
        # backend a pipeline. A pipeline loaded before the backend was kept loaded rows.
        used = state.setdefault("backend", "rows" if state.get(_WATERMARKS) else backend)
        if used != backend:
            raise ArgumentError(
                f"this pipeline loads metric_points with backend={used!r}, not {backend!r} "
                "(dlt gives the two different columns): pass "
                f"backend={used!r}, or use another pipeline (or dataset) for {backend!r}"
            )
        marks: dict[str, str] = state.setdefault(_WATERMARKS, {})
        with _Driver(make) as driver:
            series = driver.call(selection.resolve, driver.client.apps, driver.client.metrics)
            series = [key for key in series if key[1] in APP_METRICS]
            now = driver.client.clock.now()
            end = floor_to_grid(now - lateness, step)
            first = start if start is not None else now - lookback
            begin = {
                key: parse_time(marks[f"{key[0]}/{key[1]}"])
                if f"{key[0]}/{key[1]}" in marks
                else first
                for key in series
            }
            plans: dict[datetime, list[Chunk]] = {}
            for moment in sorted(set(begin.values())):
                if moment < end:
                    plans[moment] = plan_range(moment, end, step)
            todo = [(key, plans[begin[key]]) for key in series if begin[key] in plans]
            for (app_id, metric), (chunks, got) in zip(
                [key for key, _ in todo], driver.fetch_each(todo), strict=True
            ):
                if len(got.points):
                    yield _batch(got, backend)
                marks[f"{app_id}/{metric}"] = display_time(chunks[-1].owned_end)

    @dlt.resource(name="apps", write_disposition="merge", primary_key="id")
    def apps_resource() -> Iterator[list[dict[str, Any]]]:
        with _Driver(make) as driver:
            found = driver.call(driver.client.apps.list)
            wanted = set(selection.apps or [app.id for app in found])
            yield [attrs.asdict(app) for app in found if app.id in wanted]

    @dlt.resource(name="endpoints", write_disposition="merge", primary_key=("app_id", "id"))
    def endpoints() -> Iterator[list[dict[str, Any]]]:
        with _Driver(make) as driver:
            end = driver.client.clock.now().replace(microsecond=0)
            begin = end - endpoint_window
            for app_id in driver.app_ids(apps_arg):
                found = driver.call(
                    lambda app_id=app_id: driver.client.endpoints.list(app_id, start=begin, end=end)
                )
                yield [
                    {**attrs.asdict(e), "id": e.id, "app_id": app_id, "window_start": begin,
                     "window_end": end}
                    for e in found
                ]  # fmt: skip

    @dlt.resource(name="error_groups", write_disposition="merge", primary_key=("app_id", "id"))
    def error_groups() -> Iterator[list[dict[str, Any]]]:
        with _Driver(make) as driver:
            end = driver.client.clock.now().replace(microsecond=0)
            for app_id in driver.app_ids(apps_arg):
                found = driver.call(
                    lambda app_id=app_id: driver.client.errors.list(
                        app_id, start=end - lookback, end=end, clamp=True
                    )
                )
                yield [{**attrs.asdict(g), "app_id": app_id} for g in found]

    @dlt.resource(name="anomalies", write_disposition="merge", primary_key=("app_id", "id"))
    def anomalies() -> Iterator[list[dict[str, Any]]]:
        with _Driver(make) as driver:
            end = driver.client.clock.now().replace(microsecond=0)
            for app_id in driver.app_ids(apps_arg):
                found = driver.call(
                    lambda app_id=app_id: driver.client.anomalies.list(
                        app_id, start=end - lookback, end=end, clamp=True
                    )
                )
                yield [{**attrs.asdict(a), "app_id": app_id} for a in found]

    return [metric_points, apps_resource, endpoints, error_groups, anomalies]


class _Driver:
    """A ``ScoutClient`` on an event loop of its own (a blocking portal), for dlt's synchronous
    resources: ``call`` runs one coroutine, ``fetch_each`` reads series concurrently."""

    def __init__(self, make: ClientFactory) -> None:
        self._make = make
        self._stack = contextlib.ExitStack()
        self.portal: anyio.from_thread.BlockingPortal | None = None
        self.client: ScoutClient = None  # type: ignore[assignment]

    def __enter__(self) -> _Driver:
        self.portal = self._stack.enter_context(anyio.from_thread.start_blocking_portal())
        made = self._make()
        self.client = self._stack.enter_context(self.portal.wrap_async_context_manager(made))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def call(self, function: Callable[..., Any], *args: Any) -> Any:
        assert self.portal is not None
        return self.portal.call(function, *args)

    def app_ids(self, apps: AppsArg) -> list[int]:
        if apps != "all":
            return list(apps)
        return sorted(app.id for app in self.call(self.client.apps.list))

    def fetch_each(
        self, todo: Sequence[tuple[tuple[int, str], list[Chunk]]]
    ) -> Iterator[tuple[list[Chunk], Series]]:
        """The points of each series over its chunks, in ``todo``'s order; up to the client's
        ``max_concurrency`` series at once (their requests share its one limit)."""
        assert self.portal is not None
        ahead = max(1, self.client.max_concurrency)
        pending: list[tuple[list[Chunk], concurrent.futures.Future[Series]]] = []
        queue = list(todo)
        while queue or pending:
            while queue and len(pending) < ahead:
                (app_id, metric), chunks = queue.pop(0)
                future = self.portal.start_task_soon(self._read, app_id, metric, chunks)
                pending.append((chunks, future))
            chunks, future = pending.pop(0)
            yield chunks, future.result()

    async def _read(self, app_id: int, metric: str, chunks: list[Chunk]) -> Series:
        # The window of the plan, read through the client's own series call: the same window at
        # the same step is planned into the same chunks. The plan already ends at the last
        # complete bucket by this source's own lateness, so nothing is cut (partial=True).
        return await self.client.metrics.get(
            app_id,
            metric,
            start=chunks[0].owned_start,
            end=chunks[-1].owned_end,
            resolution=chunks[0].step,
            partial=True,
        )


def _batch(series: Series, backend: Backend) -> Any:
    """One series' points as what ``metric_points`` yields: with ``"pyarrow"``, an Arrow table of
    the sinks' columns read from the series' arrays (dlt writes it to Parquet as it is, with no
    Python object per row); with ``"rows"``, a list of rows."""
    if backend == "pyarrow":
        import pyarrow

        # The sinks' columns, as the resource's hints have them; the time in microseconds (dlt's
        # default precision: DuckDB keeps none beside a time zone).
        table = frames.to_arrow([series], layout="long").replace_schema_metadata(None)
        time = table.column("time").cast(pyarrow.timestamp("us", tz="UTC"))
        return table.set_column(2, pyarrow.field("time", time.type, nullable=False), time)
    app_id, metric = series.app_id, series.metric
    return [
        {"app_id": app_id, "metric": metric, "time": p.time, "value": p.value}
        for p in series.points
    ]
