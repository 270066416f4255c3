"""Exporters: Scout's metrics in the monitoring systems people already run, built on ``poll``.

``ScoutExporter`` keeps every app x metric's newest complete bucket as a Prometheus gauge, fed by
a background ``client.poll`` task; register it with a ``prometheus_client`` registry, mount its
ASGI app, or let it serve ``/metrics`` itself with uvicorn on asyncio (``scout-async exporter``
does that):

    from scout_async.exporters import ScoutExporter

    async with ScoutClient() as client:
        exporter = ScoutExporter(client, apps="all", metrics="all", interval=timedelta(minutes=1))
        await exporter.serve("127.0.0.1", 9793)     # until cancelled

The exposition is written by ``prometheus_client`` (``generate_latest``). ``EXPORTED_METRICS``
says how each Scout metric is named and converted (milliseconds to seconds, requests per minute
to per second). Needs the prometheus extra: ``pip install
'scout-async[prometheus]'``; the names load lazily, so a missing extra is one line, not a
traceback.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._defaults import DEFAULT_HOST, DEFAULT_PORT
    from ._exporter import ScoutExporter
    from ._families import EXPORTED_METRICS, ExportedMetric

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "EXPORTED_METRICS", "ExportedMetric", "ScoutExporter"]

_HOMES = {
    "DEFAULT_HOST": "._defaults",
    "DEFAULT_PORT": "._defaults",
    "EXPORTED_METRICS": "._families",
    "ExportedMetric": "._families",
    "ScoutExporter": "._exporter",
}

#: What ``pip install 'scout-async[prometheus]'`` brings, and the hint when one is missing.
_EXTRA_PACKAGES = frozenset({"prometheus_client", "uvicorn"})
_MISSING_EXTRA = (
    "the Prometheus exporter needs the prometheus extra: pip install 'scout-async[prometheus]'"
)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        module = importlib.import_module(home, __name__)
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] in _EXTRA_PACKAGES:
            raise ImportError(_MISSING_EXTRA, name=exc.name) from None
        raise
    value = getattr(module, name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
