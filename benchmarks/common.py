"""What every benchmark shares: the server it runs against, fresh child interpreters, the
measurements (client CPU, peak RSS), the clients under test and the hand-written httpx job."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

KEY = "sim-key"
HERE = Path(__file__).resolve().parent
RUN = HERE / "run.py"

#: The server the scenarios run against: ``emulator`` (benchmarks/emulator.py, several worker
#: processes, so it is never the bottleneck) or ``simulator`` (``python -m scout_async.testing``,
#: one process). Set by ``run.py --server``; read from the environment in children.
SERVER = os.environ.get("SCOUT_BENCH_SERVER", "emulator")
WORKERS = int(os.environ.get("SCOUT_BENCH_WORKERS", "2"))
#: An interpreter whose environment holds httpx alone (``pip install httpx``), for the
#: hand-written job as its author would run it; set by ``run.py --hand-python``.
HAND_PYTHON = os.environ.get("SCOUT_BENCH_HAND_PYTHON") or None


def cpu() -> float:
    """CPU seconds (user + system) of this process so far."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def maxrss_kib() -> int:
    """Peak RSS of this process so far, KiB (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def floor_now(step: timedelta) -> datetime:
    """Now, floored to the epoch-aligned grid of ``step``."""
    now = time.time()
    seconds = int(step.total_seconds())
    return datetime.fromtimestamp(now - now % seconds, timezone.utc)


# -- the server ------------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    pids: list[int]
    kind: str

    def cpu(self) -> float | None:
        """CPU seconds the server's processes used so far (from ``/proc``; ``None`` elsewhere)."""
        total = 0.0
        try:
            for pid in self.pids:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None
        return total


@contextlib.contextmanager
def server(latency: float, kind: str | None = None) -> Iterator[Server]:
    """A Scout server on localhost answering after ``latency`` seconds, in its own processes."""
    kind = kind or SERVER
    if kind == "emulator":
        command = [
            sys.executable,
            str(HERE / "emulator.py"),
            "--latency",
            str(latency),
            "--workers",
            str(WORKERS),
        ]
    else:
        command = [
            sys.executable,
            "-m",
            "scout_async.testing",
            "--port",
            "0",
            "--latency",
            str(latency),
            "--api-key",
            KEY,
        ]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().split()
        if not line or not line[0].startswith("http"):
            raise RuntimeError(f"the {kind} did not start: {line!r}")
        pids = [int(pid) for pid in line[1].split(",")] if len(line) > 1 else [proc.pid]
        yield Server(line[0], pids, kind)
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def child(
    scenario: str, *args: object, srv: Server | None = None, python: str | None = None
) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter (peak RSS and CPU are that run's alone):
    this one, or ``python``.

    With ``srv``, the server's CPU during the run is added as ``server_cpu``."""
    before = srv.cpu() if srv is not None else None
    env = {**os.environ, "SCOUT_BENCH_SERVER": SERVER, "SCOUT_BENCH_WORKERS": str(WORKERS)}
    out = subprocess.run(
        [python or sys.executable, str(RUN), "--child", scenario, *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
    )
    if out.returncode:
        raise RuntimeError(f"child {scenario} {args} failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    after = srv.cpu() if srv is not None else None
    if before is not None and after is not None:
        result["server_cpu"] = after - before
    return result


# -- the clients under test -------------------------------------------------------------------

#: scout_async's HTTP layouts: ``httpx`` (httpx's pools, the client's own layout of them),
#: ``aiohttp`` (httpx-aiohttp's transport), ``default`` (no argument: what the client picks),
#: ``one-pool`` (one httpx pool of ``max_concurrency``, the layout before issue 17).
LAYOUTS = ("httpx", "aiohttp", "default", "one-pool")
#: The keyword choosing the HTTP backend, by the names it has had.
BACKEND_KEYWORDS = ("http_backend", "http")


def transport_name(client: Any) -> str:
    """The class of the transport under the client's (first) pool, for the report."""
    pools = getattr(getattr(client, "_core", None), "_pools", None)
    http = pools[0] if pools else getattr(getattr(client, "_core", None), "_http", None)
    transport = getattr(http, "_transport", None)
    return type(transport).__name__ if transport is not None else "?"


@contextlib.asynccontextmanager
async def scout_client(
    url: str, layout: str, concurrency: int | None = None
) -> AsyncIterator[tuple[Any, str]]:
    """A ``ScoutClient`` on ``layout``, and how it was asked for (with the transport's class).

    ``ScoutClient(http_backend="httpx" | "aiohttp")`` where the client has it; before that, the
    aiohttp transport is passed as ``http_client=httpx_aiohttp.HttpxAiohttpClient(...)``."""
    import httpx

    import scout_async

    kwargs: dict[str, Any] = {"api_key": KEY, "base_url": url, "timeout": 30}
    if concurrency is not None:
        kwargs["max_concurrency"] = concurrency
    size = concurrency or int(getattr(scout_async, "DEFAULT_MAX_CONCURRENCY", 8))
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
    own: httpx.AsyncClient | None = None
    client: Any = None
    how = "no argument"
    if layout in ("httpx", "aiohttp"):
        for keyword in BACKEND_KEYWORDS:
            try:
                client = scout_async.ScoutClient(**{**kwargs, keyword: layout})
            except TypeError:  # not this keyword
                continue
            how = f"{keyword}={layout!r}"
            break
        if client is None and layout == "aiohttp":  # before the client could choose
            import httpx_aiohttp

            own = httpx_aiohttp.HttpxAiohttpClient(limits=limits, timeout=30)
            client = scout_async.ScoutClient(**kwargs, http_client=own)
            how = "http_client=HttpxAiohttpClient()"
    if layout in ("httpx", "default") and client is None:
        client = scout_async.ScoutClient(**kwargs)
    if layout == "one-pool":
        own = httpx.AsyncClient(limits=limits, timeout=30)
        client = scout_async.ScoutClient(**kwargs, http_client=own)
        how = "http_client=httpx.AsyncClient(one pool)"
    if client is None:
        raise ValueError(f"unknown layout {layout!r}")
    try:
        async with client:
            yield client, f"{how}: {transport_name(client)}"
    finally:
        if own is not None:
            await own.aclose()


def hand_client(url: str, concurrency: int) -> Any:
    """httpx's client as such jobs are usually written: its pool sized to the concurrency."""
    import httpx

    return httpx.AsyncClient(
        base_url=url,
        headers={"X-SCOUT-API": KEY},
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        timeout=30,
    )


def windows(start: datetime, end: datetime, length: timedelta) -> list[tuple[datetime, datetime]]:
    """``[start, end)`` in windows of ``length`` (the hand-written job's own plan)."""
    out = []
    while start < end:
        out.append((start, min(start + length, end)))
        start += length
    return out


async def hand_series(
    http: Any,
    limit: asyncio.Semaphore,
    app: int,
    metric: str,
    plan: Sequence[tuple[datetime, datetime]],
) -> list[tuple[datetime, float | None]]:
    """One series by hand: a GET per window under a semaphore, ``json.loads``, a ``datetime``
    per point, the point at a window's end left to the next window (no seam duplicates)."""

    async def one(frm: datetime, to: datetime) -> list[tuple[datetime, float | None]]:
        params = {"from": f"{frm:%Y-%m-%dT%H:%M:%SZ}", "to": f"{to:%Y-%m-%dT%H:%M:%SZ}"}
        async with limit:
            response = await http.get(f"/apps/{app}/metrics/{metric}", params=params)
        response.raise_for_status()
        body = json.loads(response.content)
        points = []
        for stamp, value in body["results"]["series"][metric]:
            when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            if when < to:
                points.append((when, value))
        return points

    parts = await asyncio.gather(*(one(frm, to) for frm, to in plan))
    return [point for part in parts for point in part]


def point_count(series: Iterable[Any]) -> int:
    return sum(len(getattr(s, "points", s)) for s in series)
