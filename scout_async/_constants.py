"""Every default of the client in one place."""

from __future__ import annotations

DEFAULT_BASE_URL = "https://scoutapm.com/api/v0"
API_KEY_ENV = "SCOUT_API_KEY"
BASE_URL_ENV = "SCOUT_API_URL"

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 3
DEFAULT_MAX_CONCURRENCY = 8

# Exponential backoff: INITIAL * 2**retry, capped, with full jitter in [cap/2, cap].
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
# A Retry-After longer than this is not waited for: the request fails with RateLimitError instead.
MAX_RETRY_AFTER = 120.0

AUTH_HEADER = "X-SCOUT-API"
AUTH_QUERY_PARAM = "key"
AUTH_MODES = ("header", "query", "body")

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
LOGGER_NAME = "scout_async"
