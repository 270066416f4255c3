"""What every command shares: the global options and the clock (``Settings``), the client they
configure, the consoles, and the two ways a command fails (``CliError``, ``CliUsageError``)."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import IO, Any, TypeVar

import anyio
import attrs
import click
from rich.console import Console

from .._client import ScoutClient
from .._clock import Clock, SystemClock
from .._constants import API_KEY_ENV
from .._redact import scrub_text

__all__ = [
    "CliError",
    "CliUsageError",
    "Settings",
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


@attrs.frozen
class Settings:
    """The global options, as given (flags, or the environment for the key and URL), and the
    clock every command reads ``now`` from and every client it makes runs on."""

    api_key: str | None = attrs.field(repr=False)
    url: str | None
    auth: str
    concurrency: int
    timeout: float
    max_retries: int
    verbose: int
    clock: Clock = attrs.field(factory=SystemClock)

    def now(self) -> datetime:
        """The clock's reading: what ``--from 30d`` and ``--to now`` count from."""
        return self.clock.now()

    def require_key(self) -> str:
        """The API key; a usage error naming ``--api-key`` and the variable if there is none."""
        if not self.api_key:
            raise click.UsageError(
                f"no API key: pass --api-key KEY or set {API_KEY_ENV} "
                "(Scout: organization settings -> API tokens)"
            )
        return self.api_key

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
    """``work(client)`` on an event loop, with a client from the global options, closed after."""

    async def main() -> T:
        async with settings.client() as client:
            return await work(client)

    return anyio.run(main)


def scrub(text: str, *secrets: str | None) -> str:
    """``text`` with every given secret replaced by ``***``."""
    return scrub_text(text, [s for s in secrets if s])


pass_settings = click.make_pass_decorator(Settings)


def make_console(file: IO[str], **options: Any) -> Console:
    """A console that prints text as it is: no ``[markup]`` and no ``:emoji:`` codes.

    What the CLI prints holds names from the server and paths from the user (an app named
    ``Shop [staging]``, an endpoint ``GET /users/[id]``): read as markup they would lose their
    brackets, or fail to render. Styles are given as ``Text`` objects instead.
    """
    return Console(file=file, markup=False, emoji=False, **options)


def stdout_console() -> Console:
    # Looked up at call time: click's test runner swaps sys.stdout.
    return make_console(sys.stdout)


def stderr_console() -> Console:
    """Progress and notes go here; rich turns colour off for NO_COLOR and a non-terminal."""
    return make_console(sys.stderr)
