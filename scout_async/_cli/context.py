"""What every command shares: the global options, the profile and the clock (``Settings``), the
client they configure, the consoles, the output format, and the ways a command fails
(``CliError``, ``CliUsageError``, ``Interrupted``)."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import IO, Any, TypeVar

import attrs
import click
from rich.console import Console

from .._client import ScoutClient
from .._clock import Clock, SystemClock
from .._constants import API_KEY_ENV
from .._redact import scrub_text
from .config import ConfigFile
from .stop import run_loop

__all__ = [
    "EXIT_INTERRUPTED",
    "CliError",
    "CliUsageError",
    "Interrupted",
    "Settings",
    "choose_format",
    "colour",
    "make_console",
    "pass_settings",
    "run_with_client",
    "scrub",
    "stderr_console",
    "stdout_console",
]

T = TypeVar("T")


class CliError(click.ClickException):
    """Shown as a single ``error: ...`` line on stderr; exit code 1."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class CliUsageError(CliError):
    """A usage error as one line; exit code 2."""

    exit_code = 2


#: Ctrl-C (SIGINT), as a shell reports a process it ended: 128 + 2.
EXIT_INTERRUPTED = 130


class Interrupted(CliError):
    """Stopped by Ctrl-C: one line on stderr, exit code 130."""

    exit_code = EXIT_INTERRUPTED


@attrs.frozen
class Settings:
    """The global options, as given (flags, the environment, then the profile), and the clock
    every command reads ``now`` from and every client it makes runs on.

    ``key_source`` says where the key came from (``--api-key``, ``SCOUT_API_KEY``, ``profile
    NAME``); ``app`` is the app a command uses when given none (``--app``, ``SCOUT_APP``, the
    profile's ``default_app``); ``json`` is the global ``--json``; ``limit`` the global ``-n``.
    """

    api_key: str | None = attrs.field(repr=False)
    url: str | None
    auth: str
    concurrency: int
    timeout: float
    max_retries: int
    verbose: int
    clock: Clock = attrs.field(factory=SystemClock)
    profile: str = "default"
    config: ConfigFile = attrs.field(factory=ConfigFile, repr=False)
    key_source: str | None = None
    app: int | None = None
    app_source: str | None = None
    json: bool = False
    limit: int | None = None
    heartbeat: float = 10.0

    def now(self) -> datetime:
        """The clock's reading: what ``--from 30d`` and ``--to now`` count from."""
        return self.clock.now()

    def require_key(self) -> str:
        """The API key; a usage error naming ``--api-key``, the variable and ``auth login`` if
        there is none."""
        if not self.api_key:
            raise click.UsageError(
                f"no API key: run `scout-async auth login`, set {API_KEY_ENV}, or pass "
                f"--api-key KEY (Scout: organization settings -> API tokens)"
            )
        return self.api_key

    def require_app(self, given: int | None) -> int:
        """``given``, else the default app; a usage error saying how to give one."""
        if given is not None:
            return given
        if self.app is not None:
            return self.app
        raise click.UsageError(
            "no app: pass APP (an id from `scout-async apps`), --app ID, set SCOUT_APP, or "
            "store a default with `scout-async config set default_app ID`"
        )

    def client(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
    ) -> ScoutClient:
        """A client from the global options, on the settings' clock; ``api_key``/``base_url``
        override them (the demo)."""
        key = api_key if api_key is not None else self.require_key()
        return ScoutClient(
            api_key=key,
            base_url=base_url if base_url is not None else self.url,
            auth=self.auth,
            timeout=self.timeout,
            max_retries=self.max_retries,
            max_concurrency=self.concurrency,
            clock=self.clock,
        )


def run_with_client(settings: Settings, work: Callable[[ScoutClient], Awaitable[T]]) -> T:
    """``work(client)`` on an event loop (``run_loop``: Ctrl-C cancels it, then exit 130), with a
    client from the global options, closed after."""

    async def main() -> T:
        async with settings.client() as client:
            return await work(client)

    return run_loop(main)


def scrub(text: str, *secrets: str | None) -> str:
    """``text`` with every given secret replaced by ``***``."""
    return scrub_text(text, [s for s in secrets if s])


pass_settings = click.make_pass_decorator(Settings)


_COLOUR = [True]


def colour(enabled: bool) -> None:
    """Turn colours on or off for every console made from now on (``--no-color``; rich itself
    honours ``NO_COLOR``)."""
    _COLOUR[0] = enabled


def make_console(file: IO[str], **options: Any) -> Console:
    """A console that prints text as it is: no ``[markup]`` and no ``:emoji:`` codes.

    What the CLI prints holds names from the server and paths from the user (an app named
    ``Shop [staging]``, an endpoint ``GET /users/[id]``): read as markup they would lose their
    brackets, or fail to render. Styles are given as ``Text`` objects instead.
    """
    if not _COLOUR[0]:
        options.setdefault("no_color", True)
    return Console(file=file, markup=False, emoji=False, **options)


def choose_format(given: str | None, settings: Settings, human: str) -> str:
    """The output format: ``given`` (``--format``), else ``json`` for the global ``--json`` or
    when stdout is not a terminal (a pipe, a file), else ``human`` (a table, a tree)."""
    if given is not None:
        return given
    if settings.json or not sys.stdout.isatty():
        return "json"
    return human


def stdout_console() -> Console:
    # Looked up at call time: click's test runner swaps sys.stdout.
    return make_console(sys.stdout)


def stderr_console() -> Console:
    """Progress and notes go here; rich turns colour off for NO_COLOR and a non-terminal."""
    return make_console(sys.stderr)
