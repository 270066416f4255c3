"""scout_async: the async Python client for the Scout APM read API.

>>> import scout_async
>>> async with scout_async.ScoutClient() as client:       # key from SCOUT_API_KEY
...     series = await client.metrics.get(101, "response_time", start=t0, end=t1, resolution="1m")
"""

from ._client import ScoutClient
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
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
from ._models import App, Point, Series
from ._models_api import (
    AnomalyDeploy,
    AnomalyEvent,
    AnomalySmartMonitor,
    ApmUsage,
    BillingPeriod,
    Endpoint,
    ErrorGroup,
    ErrorOccurrence,
    ErrorUsage,
    Insight,
    InsightGroup,
    InsightsOverview,
    InsightTimeframe,
    Job,
    JobTrace,
    LogUsage,
    NodeUsage,
    Span,
    Trace,
    TraceSummary,
    Usage,
)
from ._planner import Chunk, plan_range
from ._poll import PollUpdate
from ._report import BackfillResult, Progress, SeriesResult
from ._resources.insights import INSIGHT_TYPES
from ._resources.jobs import JOB_METRICS
from ._resources.metrics import APP_METRICS
from ._sinks import CsvSink, JsonlSink, ParquetSink, Sink, SqliteSink, open_sink
from ._steps import STEPS
from ._transport import TransportStats
from ._version import __version__

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "APP_METRICS",
    "AnomalyDeploy",
    "AnomalyEvent",
    "AnomalySmartMonitor",
    "ApmUsage",
    "App",
    "AuthenticationError",
    "BackfillResult",
    "BillingPeriod",
    "CheckpointMismatchError",
    "Chunk",
    "ConfigurationError",
    "CsvSink",
    "Endpoint",
    "ErrorGroup",
    "ErrorOccurrence",
    "ErrorUsage",
    "INSIGHT_TYPES",
    "Insight",
    "InsightGroup",
    "InsightTimeframe",
    "InsightsOverview",
    "InvalidRequestError",
    "JOB_METRICS",
    "Job",
    "JobTrace",
    "JsonlSink",
    "LogUsage",
    "NodeUsage",
    "NotFoundError",
    "ParquetSink",
    "Point",
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
    "Sink",
    "Span",
    "SqliteSink",
    "StepMismatchError",
    "Trace",
    "TraceSummary",
    "TransportStats",
    "Usage",
    "__version__",
    "open_sink",
    "plan_range",
]
