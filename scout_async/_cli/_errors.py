"""The two ways a command fails: one ``error: ...`` line on stderr, exit code 1 or 2."""

from __future__ import annotations

from typing import Any

import click

__all__ = ["CliError", "CliUsageError"]


class CliError(click.ClickException):
    """Shown as a single ``error: ...`` line on stderr; exit code 1."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class CliUsageError(CliError):
    """A usage error as one line; exit code 2."""

    exit_code = 2
