"""scout_async: the async Python client for the Scout APM read API.

>>> import scout_async
>>> async with scout_async.ScoutClient() as client:       # key from SCOUT_API_KEY
...     series = await client.metrics.get(101, "response_time", start=t0, end=t1, resolution="1m")

The public surface comes in tiers: this module holds the client, its errors, the series types
and the results of bulk work; the API's models are in ``scout_async.types``, the backfill sinks in
``scout_async.sinks``, the simulator in ``scout_async.testing``, the Prometheus exporter in
``scout_async.exporters``, the dlt source in ``scout_async.dlt``.
"""

import typing as _typing

from ._client import ScoutClient
from ._clock import Clock, SystemClock
from ._core import ClientStats
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ArgumentError,
    ArgumentTypeError,
    AuthenticationError,
    CheckpointMismatchError,
    ConfigurationError,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
    ResponseFormatError,
    ScoutError,
    ServerError,
    StepMismatchError,
)
from ._resources.insights import INSIGHT_TYPES
from ._resources.metrics import APP_METRICS, JOB_METRICS
from ._series.planner import Chunk, plan_range
from ._series.steps import STEPS
from ._version import __version__
from .types import App, Point, Points, Series

if _typing.TYPE_CHECKING:
    from ._bulk.poll import PollUpdate
    from ._bulk.report import BackfillResult, Progress, SeriesResult

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "APP_METRICS",
    "App",
    "ArgumentError",
    "ArgumentTypeError",
    "AuthenticationError",
    "BackfillResult",
    "CheckpointMismatchError",
    "Chunk",
    "ClientStats",
    "Clock",
    "ConfigurationError",
    "INSIGHT_TYPES",
    "InvalidRequestError",
    "JOB_METRICS",
    "NotFoundError",
    "Point",
    "Points",
    "PollUpdate",
    "Progress",
    "RateLimitError",
    "ResponseFormatError",
    "STEPS",
    "ScoutClient",
    "ScoutError",
    "Series",
    "SeriesResult",
    "ServerError",
    "StepMismatchError",
    "SystemClock",
    "__version__",
    "plan_range",
]

# The results of bulk work are imported on first use (PEP 562): their modules bring the poll
# machinery and the selection of series (~10 ms), which a client reading series never needs.
_LAZY = {
    "BackfillResult": "._bulk.report",
    "PollUpdate": "._bulk.poll",
    "Progress": "._bulk.report",
    "SeriesResult": "._bulk.report",
}

#: Submodules ``import scout_async`` used to bring as a side effect, reachable as attributes.
_SUBMODULES = frozenset({"frames", "sinks"})

if not _typing.TYPE_CHECKING:  # mypy sees the imports above; a __getattr__ would hide typos

    def __getattr__(name: str) -> object:
        from importlib import import_module

        if name in _SUBMODULES:  # ``scout_async.sinks.X`` after a bare ``import scout_async``
            return import_module(f".{name}", __name__)
        if name not in _LAZY:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
