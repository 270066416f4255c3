"""A faithful simulator of the Scout APM read API, for tests, examples and benchmarks.

    from scout_async.testing import ScoutSimulator, SimulatorServer, Fault, DEFAULT_API_KEY

    sim = ScoutSimulator(now=datetime(2026, 7, 5, 17, 20, tzinfo=timezone.utc))
    sim.add_fault(Fault(path="/apps/*/metrics/*", status=429, retry_after="1"))
    async with SimulatorServer(sim) as server:
        ...  # point a client at server.url; inspect sim.requests afterwards

Or in-process, ``httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app), ...)``; or from a
shell, ``python -m scout_async.testing --port 0``; or in pytest, the ``scout_simulator`` and
``scout_simulator_server`` fixtures.

The names load lazily: the pytest plugin imports this package in every test run of anyone who
installs scout_async, and should not pull in starlette and uvicorn until a fixture is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._constants import DEFAULT_API_KEY
    from ._faults import Fault
    from ._server import SimulatorServer
    from ._simulator import RecordedRequest, ScoutSimulator

__all__ = ["DEFAULT_API_KEY", "Fault", "RecordedRequest", "ScoutSimulator", "SimulatorServer"]

_HOMES = {
    "DEFAULT_API_KEY": "._constants",
    "Fault": "._faults",
    "RecordedRequest": "._simulator",
    "ScoutSimulator": "._simulator",
    "SimulatorServer": "._server",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
