"""Every default of the exporter in one place (no optional package needed to read them)."""

from __future__ import annotations

from datetime import timedelta

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_INTERVAL",
    "DEFAULT_PORT",
    "INITIAL_LOOKBACK",
    "NAMES_REFRESH",
    "RESTART_DELAY",
]

#: Where ``serve`` and ``scout-async exporter`` listen unless told: this machine only.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9793
DEFAULT_INTERVAL = timedelta(minutes=1)
#: The first poll reaches back this far, so the newest values are there at once (in one request
#: per series); at least ``lateness`` and two steps (a coarse step's last complete bucket), at
#: most ``max_age``.
INITIAL_LOOKBACK = timedelta(minutes=30)
#: How often the apps' names (a label) are listed again; an app without a name is looked up at
#: the next interval.
NAMES_REFRESH = timedelta(hours=1)
#: Polling that ended with an error (listing the apps failed) starts again after this many
#: seconds at first, doubling up to the interval.
RESTART_DELAY = 1.0
