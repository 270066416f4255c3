"""The postgres and dlt extras: what each brings, and the one line a missing one gives. The
"not installed" packages are hidden from a child interpreter by an import hook (as in
tests/test_install.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.test_install import brought_by, hiding

ROOT = Path(__file__).resolve().parents[1]
HIDDEN = ("psycopg", "psycopg_binary", "psycopg_c", "dlt", "duckdb")

HIDE = hiding(HIDDEN)


def run_without(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SCOUT_API_KEY": "k", "SCOUT_CONFIG": os.devnull + ".missing"}
    return subprocess.run(
        [sys.executable, "-c", HIDE + textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
        env=env,
    )


@pytest.mark.parametrize(("extra", "packages"), [("postgres", {"psycopg"}), ("dlt", {"dlt"})])
def test_each_extra_brings_its_packages_and_the_test_extra_brings_them_too(
    extra: str, packages: set[str]
) -> None:
    assert packages <= brought_by(extra)
    assert packages <= brought_by("test")


def test_the_sinks_import_without_psycopg_and_a_database_url_says_what_to_install() -> None:
    result = run_without(
        """
        import scout_async.sinks
        try:
            scout_async.sinks.open_sink("postgresql://scout:pw@localhost/db")
        except ImportError as exc:
            print(exc)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "PostgresSink needs psycopg, which is not installed: pip install 'scout-async[postgres]' "
        "(or pip install 'psycopg[binary]')"
    ]


@pytest.mark.parametrize(
    "command",
    [
        ["backfill", "--from", "1d", "-o", "postgresql://scout:pw-hidden@localhost/db"],
        ["archive", "--db", "postgresql://scout:pw-hidden@localhost/db", "--once"],
    ],
)
def test_the_cli_without_psycopg_says_what_to_install(command: list[str]) -> None:
    result = run_without("from scout_async._cli import run; run()", *command)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: PostgresSink needs psycopg, which is not installed: pip install "
        "'scout-async[postgres]' (or pip install 'psycopg[binary]')"
    ]
    assert "pw-hidden" not in result.stdout + result.stderr


def test_the_dlt_source_without_dlt_says_what_to_install() -> None:
    result = run_without(
        """
        try:
            import scout_async.dlt
        except ImportError as exc:
            print(exc)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "scout_async.dlt needs dlt, which is not installed: pip install 'scout-async[dlt]' "
        "(or pip install dlt)"
    ]


def test_polars_without_numpy_says_what_to_install() -> None:
    code = """
        from datetime import timedelta
        from scout_async import Series
        try:
            Series(101, "throughput", timedelta(minutes=1), []).to_polars()
        except ImportError as exc:
            print(exc)
    """
    result = subprocess.run(
        [sys.executable, "-c", hiding(("numpy",)) + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "to_polars needs numpy, which is not installed: pip install 'scout-async[polars]' "
        "(or pip install numpy)"
    ]
