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
from ._planner import Chunk, plan_range
from ._resources.metrics import APP_METRICS
from ._steps import STEPS
from ._transport import TransportStats
from ._version import __version__

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "APP_METRICS",
    "App",
    "AuthenticationError",
    "Chunk",
    "ConfigurationError",
    "InvalidRequestError",
    "NotFoundError",
    "Point",
    "RateLimitError",
    "ResponseFormatError",
    "STEPS",
    "ScoutClient",
    "ScoutError",
    "Series",
    "ServerError",
    "StepMismatchError",
    "TransportStats",
    "__version__",
    "plan_range",
]
