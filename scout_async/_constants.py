"""Every default of the client in one place."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

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

# Lookback limits of the API: traces within 7 days, error groups and anomaly events within 30.
# Exactly 7 x 24 h was refused by the live API, so the earliest start is ``now - limit + margin``.
TRACE_LOOKBACK = timedelta(days=7)
ERROR_LOOKBACK = timedelta(days=30)
LOOKBACK_MARGIN = timedelta(minutes=1)

# Windows Scout can hold data for: nothing before the company existed (founded 2009; metric data
# is kept about 30 days anyway), and nothing more than a little after now. Far-off windows are
# typos (year 26 for 2026) that would plan millions of requests: refused before any request.
EARLIEST_DATA = datetime(2009, 1, 1, tzinfo=timezone.utc)
FUTURE_MARGIN = timedelta(days=1)

# Backfill: how often the sink is flushed and the checkpoint written (seconds), and how many
# series in a row may fail with connection or server errors before the job stops.
DEFAULT_CHECKPOINT_EVERY = 1.0
DEFAULT_MAX_CONSECUTIVE_FAILURES = 3

# Polling: the interval, and how long after its end a bucket is taken as final. The same lateness
# ends every series by default (get, stream, backfill, archive, the CLI): a bucket that ended less
# than DEFAULT_LATENESS before the client's clock has not closed (Scout reports the bucket in
# progress, typically as 0: API notes quirk 14), so it is left out unless asked for.
DEFAULT_POLL_INTERVAL = timedelta(minutes=5)
DEFAULT_LATENESS = timedelta(minutes=2)

# Metric data is kept about 30 days (API notes, quirk 4): a window reaching further back is
# warned about, and a backfill reports the part Scout no longer holds.
METRIC_RETENTION = timedelta(days=30)
