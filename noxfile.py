"""Developer sessions: ``nox -s tests lint typecheck bench``."""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The whole test suite (the README's test command runs the same)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff==0.17.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package, the tests, the examples and this file."""
    session.install("-e", ".[test]")
    session.run("mypy", "--strict")


@nox.session
def bench(session: nox.Session) -> None:
    """Speed and memory goals on localhost against an independent Scout emulator (prints tables).

    ``nox -s bench -- --only sweep --runs 5``: see ``python benchmarks/run.py --help``. httptools
    and uvloop serve the emulator (uvicorn picks them), so its CPU stays small beside the client's;
    the client runs on asyncio's own loop."""
    session.install("-e", ".[test]", "httpx-aiohttp", "httptools", "uvloop")
    # The hand-written job also runs as its author would install it: httpx alone.
    hand = Path(session.create_tmp()) / "hand-venv"
    if not (hand / "bin" / "python").exists():
        session.run("python", "-m", "venv", str(hand))
        session.run(str(hand / "bin" / "pip"), "install", "-q", "httpx", external=True)
    hand_python = ["--hand-python", str(hand / "bin" / "python")]
    session.run("python", "benchmarks/run.py", *hand_python, *session.posargs)
