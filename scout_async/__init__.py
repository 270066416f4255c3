"""scout_async: the async Python client for the Scout APM read API.

>>> import scout_async
>>> async with scout_async.ScoutClient() as client:       # key from SCOUT_API_KEY
...     series = await client.metrics.get(101, "response_time", start=t0, end=t1, resolution="1m")

The public surface comes in tiers: this module holds the client, its errors, the series types
and the results of bulk work; the API's models are in ``scout_async.types``, the backfill sinks in
``scout_async.sinks``, the simulator in ``scout_async.testing``, the Prometheus exporter in
``scout_async.exporters``, the dlt source in ``scout_async.dlt``.
"""

from ._bulk.poll import PollUpdate
from ._bulk.report import BackfillResult, Progress, SeriesResult
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
