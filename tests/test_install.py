"""The lean install: the client needs only httpx, anyio, attrs and cattrs; everything else is an
extra, and a missing extra is named in one line, never a traceback.

The "not installed" packages are hidden from a child interpreter by an import hook, so these tests
need no network and no second environment.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib.metadata import requires
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
CLIENT_DEPENDENCIES = {"httpx", "anyio", "attrs", "cattrs", "sniffio"}
OPTIONAL = (
    "click",
    "rich",
    "starlette",
    "uvicorn",
    "pyarrow",
    "prometheus_client",
    "pandas",
    "polars",
    "numpy",
)


def hiding(packages: tuple[str, ...]) -> str:
    """Code that, run first in a child interpreter, makes ``packages`` (and what they would
    import) impossible to find, as if they were not installed."""
    return textwrap.dedent(
        f"""
        import importlib.abc, sys
        HIDDEN = {packages!r}
        class Hide(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in HIDDEN:
                    raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
                return None
        sys.meta_path.insert(0, Hide())
        """
    )


HIDE = hiding(OPTIONAL)


def run_without_extras(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", HIDE + textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )


def brought_by(extra: str) -> set[str]:
    """The packages ``pip install scout-async[extra]`` adds (``""``: the plain install)."""
    names = set()
    for line in requires("scout-async") or []:
        requirement = Requirement(line)
        if requirement.marker is None:
            if not extra:
                names.add(requirement.name)
        elif extra and requirement.marker.evaluate({"extra": extra}):
            names.add(requirement.name)
    return names


def test_the_package_depends_only_on_the_client_stack() -> None:
    assert brought_by("") == CLIENT_DEPENDENCIES


@pytest.mark.parametrize(
    ("extra", "packages"),
    [
        ("cli", {"click", "rich"}),
        ("simulator", {"starlette", "uvicorn"}),
        ("parquet", {"pyarrow"}),
        ("prometheus", {"prometheus-client"}),
        ("arrow", {"pyarrow"}),
        ("pandas", {"pandas"}),
        ("polars", {"polars", "numpy"}),
    ],
)
def test_each_extra_brings_its_packages(extra: str, packages: set[str]) -> None:
    assert packages <= brought_by(extra)


def test_the_test_extra_brings_every_optional_package() -> None:
    # OPTIONAL holds import names; a distribution's name has "-" for "_" (prometheus-client).
    assert {name.replace("_", "-") for name in OPTIONAL} <= brought_by("test")


def test_the_client_works_without_any_extra() -> None:
    code = """
        import anyio, httpx, json
        from datetime import datetime, timedelta, timezone
        import scout_async, scout_async.types, scout_async.sinks, scout_async.frames

        def answer(request):
            body = {"header": {"status": {"code": 200, "message": "OK"}},
                    "results": {"apps": [{"id": 7, "name": "shop"}]}}
            return httpx.Response(200, json=body)

        async def main():
            http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
            async with scout_async.ScoutClient(api_key="k", http_client=http) as client:
                apps = await client.apps.list()
            await http.aclose()
            print(apps[0].name, len(scout_async.plan_range(
                datetime(2026, 1, 1, tzinfo=timezone.utc),
                datetime(2026, 1, 31, tzinfo=timezone.utc), "1m")))

        anyio.run(main)
        import sys
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in {"click", "rich",
                        "starlette", "uvicorn", "pyarrow", "prometheus_client", "pandas",
                        "polars", "numpy"})
        print("loaded:", loaded)
    """
    result = run_without_extras(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["shop 720", "loaded: []"]


def test_the_cli_without_its_extra_says_what_to_install() -> None:
    result = run_without_extras("from scout_async._cli import run; run()", "apps")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: the scout-async command line needs the cli extra: pip install 'scout-async[cli]'"
    ]
    assert "Traceback" not in result.stderr


def test_the_simulator_without_its_extra_says_what_to_install() -> None:
    code = """
        try:
            from scout_async.testing import ScoutSimulator
        except ImportError as exc:
            print(exc)
    """
    result = run_without_extras(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "the Scout simulator needs the simulator extra: pip install 'scout-async[simulator]'"
    )


def test_the_simulator_command_without_its_extra_says_what_to_install() -> None:
    result = run_without_extras(
        "import runpy; runpy.run_module('scout_async.testing', run_name='__main__')"
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: the Scout simulator needs the simulator extra: pip install 'scout-async[simulator]'"
    )


def test_the_parquet_sink_without_its_extra_says_what_to_install(tmp_path: Path) -> None:
    code = """
        import sys
        from scout_async.sinks import ParquetSink
        try:
            ParquetSink(sys.argv[1])
        except ImportError as exc:
            print(exc)
    """
    result = run_without_extras(code, str(tmp_path / "out.parquet"))
    assert result.returncode == 0, result.stderr
    assert "pip install 'scout-async[parquet]'" in result.stdout


def test_the_frames_without_their_extras_say_what_to_install() -> None:
    code = """
        from datetime import timedelta
        from scout_async import Series, frames
        series = Series(101, "throughput", timedelta(minutes=1), [])
        for convert in (
            series.to_arrow,
            series.to_pandas,
            series.to_polars,
            lambda: frames.to_arrow([series], layout="wide"),
            lambda: frames.to_pandas([series]),
            lambda: frames.to_polars([series]),
            lambda: frames.points_to_arrow_arrays(series.points),
        ):
            try:
                convert()
            except ImportError as exc:
                print(exc)
    """
    result = run_without_extras(code)
    assert result.returncode == 0, result.stderr
    arrow = "needs pyarrow, which is not installed: pip install 'scout-async[arrow]' (or pip "
    arrow += "install pyarrow)"
    pandas = "to_pandas needs pandas, which is not installed: pip install 'scout-async[pandas]' "
    pandas += "(or pip install pandas)"
    polars = "to_polars needs polars, which is not installed: pip install 'scout-async[polars]' "
    polars += "(or pip install polars)"
    assert result.stdout.splitlines() == [
        f"to_arrow {arrow}",
        pandas,
        polars,
        f"to_arrow {arrow}",
        pandas,
        polars,
        f"points_to_arrow_arrays {arrow}",
    ]
