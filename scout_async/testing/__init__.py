"""A faithful simulator of the Scout APM read API, for tests, examples and benchmarks.

    from . import ScoutSimulator, SimulatorServer, Fault, DEFAULT_API_KEY

    sim = ScoutSimulator(now=datetime(2026, 7, 5, 17, 20, tzinfo=timezone.utc))
    sim.add_fault(Fault(path="/apps/*/metrics/*", status=429, retry_after="1"))
    async with SimulatorServer(sim) as server:
        ...  # point a client at server.url; inspect sim.requests afterwards

Or in-process, ``sim.http_client()`` (an ``httpx.AsyncClient`` over ``httpx.ASGITransport``, to
hand to ``ScoutClient(http_client=...)``); or from a shell, ``python -m scout_async.testing
--port 0``; or in pytest, the ``scout_simulator`` and ``scout_simulator_server`` fixtures.

A test can watch ``sim.in_flight``, ``sim.peak_in_flight``, ``sim.completed`` and
``sim.cancelled``, aim a ``Fault`` at one chunk with ``Fault(..., from_=chunk_start)``, and run
against each variant of what is unknown about the live API (``ScoutSimulator(inclusive_end=...,
band_edges=..., missing=..., nulls=...)``). The simulator and a client can share one clock:
``ScoutClient(clock=sim.clock)``, or ``ScoutSimulator(now=clock)`` with the client's own.

It behaves as the live API is known to, quirks included (span durations in seconds under
``duration_ms``, scoped endpoint names on anomaly events, ``errors_count: 0`` on an error group's
detail, a bare HTTP 500 for a job id that names no ``queue/JobName``, URL-safe job ids, ...);
each behaviour names its evidence next to it, and docs/scout-api.md lists them all.

The simulator imports nothing from the client: it keeps its own copy of every API rule it serves
(``_rules``), so a wrong rule on one side shows up as a failing test.

The names load lazily: the pytest plugin imports this package in every test run of anyone who
installs scout_async, and should not pull in starlette and uvicorn until a fixture is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._facts import DEFAULT_API_KEY
    from ._faults import Fault
    from ._server import SimulatorServer
    from ._simulator import RecordedRequest, ScoutSimulator

__all__ = ["DEFAULT_API_KEY", "Fault", "RecordedRequest", "ScoutSimulator", "SimulatorServer"]

_HOMES = {
    "DEFAULT_API_KEY": "._facts",
    "Fault": "._faults",
    "RecordedRequest": "._simulator",
    "ScoutSimulator": "._simulator",
    "SimulatorServer": "._server",
}


#: What ``pip install 'scout-async[simulator]'`` brings, and the hint when one is missing.
_EXTRA_PACKAGES = frozenset({"starlette", "uvicorn"})
_MISSING_EXTRA = (
    "the Scout simulator needs the simulator extra: pip install 'scout-async[simulator]'"
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
