"""What the exporter tests share: a clock that runs fast, an exporter serving over real localhost
HTTP while it polls the simulator, and scrapes parsed by prometheus_client's own parser."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import attrs
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from scout_async import ScoutClient
from scout_async.exporters import ScoutExporter
from scout_async.testing import ScoutSimulator, SimulatorServer

SECRET = "sk-live-EXPORTER-S3CR3T-0123456789"
WALL = datetime(2026, 7, 5, 17, 20, 30, tzinfo=timezone.utc)
M = timedelta(minutes=1)


class ScaledClock:
    """A ``scout_async.Clock`` that runs ``speed`` times faster than real time, readable from
    any thread: a minute of polling takes a second at ``speed=60``. The simulator reads the same
    time (``ScoutSimulator(now=clock.now)``), so its data follows."""

    def __init__(self, speed: float = 60.0, wall: datetime = WALL) -> None:
        self.speed = speed
        self.wall = wall
        self._real = time.monotonic()

    def elapsed(self) -> float:
        return (time.monotonic() - self._real) * self.speed

    def now(self) -> datetime:
        return self.wall + timedelta(seconds=self.elapsed())

    def monotonic(self) -> float:
        return 1000.0 + self.elapsed()

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(max(0.0, seconds) / self.speed)


#: One sample: (sample name, its labels) -> value.
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@attrs.frozen
class Scrape:
    text: str
    samples: Samples

    def get(self, name: str, **labels: str) -> list[float]:
        """The values of ``name`` whose labels include ``labels``."""
        wanted = set(labels.items())
        return [v for (n, ls), v in self.samples.items() if n == name and wanted <= ls]

    def one(self, name: str, **labels: str) -> float | None:
        found = self.get(name, **labels)
        assert len(found) <= 1, (name, labels, found)
        return found[0] if found else None

    def names(self) -> set[str]:
        return {name for name, _ in self.samples}

    def label_sets(self, name: str) -> list[dict[str, str]]:
        return [dict(ls) for n, ls in self.samples if n == name]


def parse(text: str) -> Scrape:
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = (sample.name, frozenset(sample.labels.items()))
            assert key not in samples, f"duplicate sample {key}"
            samples[key] = sample.value
    return Scrape(text, samples)


@attrs.define
class Running:
    exporter: ScoutExporter
    client: ScoutClient
    sim: ScoutSimulator
    clock: ScaledClock
    http: httpx.AsyncClient
    url: str

    async def scrape(self) -> Scrape:
        response = await self.http.get(self.url + "/metrics")
        assert response.status_code == 200, response.text
        return parse(response.text)

    async def until(
        self, check: Callable[[Scrape], bool], *, within: float = 30.0, what: str = ""
    ) -> Scrape:
        """Scrape until ``check`` holds (a failure after ``within`` real seconds)."""
        deadline = time.monotonic() + within
        while True:
            scrape = await self.scrape()
            if check(scrape):
                return scrape
            if time.monotonic() > deadline:
                pytest.fail(f"never happened: {what or check}\n--- last scrape ---\n{scrape.text}")
            await anyio.sleep(0.02)


@contextlib.asynccontextmanager
async def running(
    *,
    speed: float = 60.0,
    clock: ScaledClock | None = None,
    sim: ScoutSimulator | None = None,
    client_options: Mapping[str, Any] | None = None,
    **exporter_options: Any,
) -> AsyncIterator[Running]:
    """An exporter polling a simulator over real HTTP and serving on a free localhost port."""
    clock = clock or ScaledClock(speed)
    sim = sim or ScoutSimulator(api_key=SECRET, now=clock.now)
    options = dict(client_options or {})
    async with (
        SimulatorServer(sim) as server,
        ScoutClient(api_key=SECRET, base_url=server.url, clock=clock, **options) as client,
    ):
        exporter = ScoutExporter(client, **exporter_options)
        async with anyio.create_task_group() as tg:
            host, port = await tg.start(exporter.serve, "127.0.0.1", 0)
            async with httpx.AsyncClient(timeout=10) as http:
                yield Running(exporter, client, sim, clock, http, f"http://{host}:{port}")
            tg.cancel_scope.cancel()


def promtool_path() -> str:
    """promtool's path; a failure under CI (which installs Debian's prometheus package), else a
    skip when it is not on PATH. Call it before any task group (the ``promtool`` fixture)."""
    path = shutil.which("promtool")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("promtool is not on PATH: CI must install Debian's prometheus package")
        pytest.skip("promtool is not on PATH (apt-get install prometheus)")
    return path


def promtool_check(promtool: str, text: str) -> subprocess.CompletedProcess[str]:
    """``promtool check metrics`` of an exposition: its verdict and lint findings."""
    return subprocess.run(
        [promtool, "check", "metrics"],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def eventually(check: Callable[[], bool], *, within: float = 30.0) -> None:
    """Wait until ``check()`` holds (a failure after ``within`` real seconds)."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {check}")
        await anyio.sleep(0.02)
