"""The prometheus extra: what it brings, and one line naming it when prometheus_client or
uvicorn is missing (hidden from a child interpreter by an import hook, as in
tests/test_install.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from importlib.metadata import requires
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
HINT = "the Prometheus exporter needs the prometheus extra: pip install 'scout-async[prometheus]'"

# Runs first in the child: PACKAGE (and anything under it) cannot be found.
HIDE = textwrap.dedent(
    """
    import importlib.abc, sys
    class Hide(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == PACKAGE:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None
    sys.meta_path.insert(0, Hide())
    """
)


def without_prometheus_client(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return without("prometheus_client", code, *args)


def without(package: str, code: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SCOUT_CONFIG": os.devnull + ".missing"}  # no developer's profile
    hide = f"PACKAGE = {package!r}\n" + HIDE
    return subprocess.run(
        [sys.executable, "-c", hide + textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
        env=env,
    )


def brought_by(extra: str) -> set[str]:
    names = set()
    for line in requires("scout-async") or []:
        requirement = Requirement(line)
        if requirement.marker is not None and requirement.marker.evaluate({"extra": extra}):
            names.add(requirement.name)
    return names


def test_the_prometheus_extra_and_the_test_extra_bring_prometheus_client() -> None:
    assert {"prometheus-client", "uvicorn"} <= brought_by("prometheus")
    assert {"prometheus-client", "uvicorn"} <= brought_by("test")


def test_the_library_without_the_extra_says_what_to_install() -> None:
    code = """
        import scout_async, scout_async.exporters
        from scout_async.exporters import EXPORTED_METRICS, DEFAULT_PORT
        print(EXPORTED_METRICS["apdex"].name, DEFAULT_PORT)
        try:
            from scout_async.exporters import ScoutExporter
        except ImportError as exc:
            print(exc)
        print(sorted(m for m in sys.modules if m.startswith("prometheus")))
    """
    result = without_prometheus_client(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["scout_app_apdex_ratio 9793", HINT, "[]"]


def test_the_library_without_uvicorn_says_what_to_install() -> None:
    code = """
        try:
            from scout_async.exporters import ScoutExporter
        except ImportError as exc:
            print(exc)
    """
    result = without("uvicorn", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [HINT]


def test_the_command_without_the_extra_says_what_to_install() -> None:
    result = without_prometheus_client(
        "from scout_async._cli import run; run()", "--api-key", "k", "exporter", "--port", "0"
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"error: {HINT}"]
    # The rest of the command line does not need it, nor does the exporter's help.
    for args in (["--help"], ["exporter", "--help"], ["apps", "--help"]):
        shown = without_prometheus_client("from scout_async._cli import run; run()", *args)
        assert shown.returncode == 0, shown.stderr


def test_importing_scout_async_loads_no_exporter_package() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, scout_async, scout_async._cli.app; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'prometheus_client'))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
