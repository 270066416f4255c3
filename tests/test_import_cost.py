"""``import scout_async`` loads what a client reading series needs, and the rest on first use.

Each check runs in a fresh interpreter: in the test process, other tests have long since imported
everything. The modules listed were all loaded by ``import scout_async`` before it deferred them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

#: Loaded on first use only: the bulk machinery (``backfill``, ``poll``), the sinks, the frames,
#: and the converters (cattrs) that only listings and odd answers need.
DEFERRED = [
    "cattrs",
    "scout_async._bulk.backfill",
    "scout_async._bulk.checkpoint",
    "scout_async._bulk.poll",
    "scout_async._bulk.report",
    "scout_async._bulk.selection",
    "scout_async.frames",
    "scout_async.sinks",
    "scout_async.types._convert",
    "sqlite3",
]


def run_child(code: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_client_reading_a_series_loads_none_of_the_deferred_modules() -> None:
    code = """
        import json, sys
        from datetime import datetime, timedelta, timezone

        import anyio
        import scout_async

        deferred = json.loads(sys.argv[1])

        def loaded():
            return sorted(name for name in deferred if name in sys.modules)

        client = scout_async.ScoutClient(api_key="k", base_url="https://scout.example/api/v0")
        after_client = loaded()
        anyio.run(client.aclose)

        import httpx

        def answer(request):
            start = datetime.fromisoformat(request.url.params["from"].replace("Z", "+00:00"))
            end = datetime.fromisoformat(request.url.params["to"].replace("Z", "+00:00"))
            times = []
            while start < end:
                times.append(start.strftime("%Y-%m-%dT%H:%M:%SZ"))
                start += timedelta(minutes=1)
            body = {
                "header": {"status": {"code": 200, "message": "OK"}},
                "results": {
                    "series": {"throughput": [[time, 1.5] for time in times]},
                    "summaries": {"throughput": 1.5},
                },
            }
            return httpx.Response(200, json=body)

        async def read():
            end = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(hours=1)
            http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
            async with scout_async.ScoutClient(api_key="k", http_client=http) as client:
                series = await client.metrics.get(
                    7, "throughput", start=end - timedelta(minutes=30), end=end, resolution="1m"
                )
            await http.aclose()
            return len(series.points)

        points = anyio.run(read)
        print(json.dumps({"after_client": after_client, "points": points, "after_get": loaded()}))
    """
    assert json.loads(run_child(code, json.dumps(DEFERRED))) == {
        "after_client": [],
        "points": 30,
        "after_get": [],
    }


def test_every_public_name_resolves_in_a_fresh_interpreter() -> None:
    code = """
        import json
        import scout_async
        from scout_async import BackfillResult, PollUpdate, Progress, SeriesResult
        from scout_async._bulk import poll, report

        star = {}
        exec("from scout_async import *", star)
        try:
            scout_async.NoSuchName
        except AttributeError as exc:
            unknown = str(exc)
        print(json.dumps({
            "unresolved": [n for n in scout_async.__all__ if getattr(scout_async, n, None) is None],
            "star": sorted(set(star) - {"__builtins__"}) == sorted(scout_async.__all__),
            "dir": sorted(set(scout_async.__all__) - set(dir(scout_async))),
            "same": [PollUpdate is poll.PollUpdate, BackfillResult is report.BackfillResult,
                     Progress is report.Progress, SeriesResult is report.SeriesResult],
            "unknown": unknown,
        }))
    """
    assert json.loads(run_child(code)) == {
        "unresolved": [],
        "star": True,
        "dir": [],
        "same": [True, True, True, True],
        "unknown": "module 'scout_async' has no attribute 'NoSuchName'",
    }


def test_dir_lists_the_deferred_names_before_their_first_use() -> None:
    code = """
        import sys
        import scout_async
        print(all(n in dir(scout_async) for n in scout_async.__all__),
              "scout_async._bulk.poll" in sys.modules)
    """
    assert run_child(code).split() == ["True", "False"]


def test_the_deferred_submodules_are_still_attributes_of_the_package() -> None:
    code = """
        import sys
        import scout_async
        before = "scout_async.sinks" in sys.modules
        print(before, scout_async.sinks.JsonlSink.__name__, scout_async.frames.__name__)
    """
    assert run_child(code).split() == ["False", "JsonlSink", "scout_async.frames"]
