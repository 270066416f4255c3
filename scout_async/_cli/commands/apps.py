"""``apps``: the apps the key can see."""

from __future__ import annotations

import json
import sys

import click
from rich.table import Table
from rich.text import Text

from ...types._models import App
from ..context import Settings, pass_settings, run_with_client, stdout_console
from ..times import format_instant

__all__ = ["apps"]


def _reported(app: App) -> str | None:
    return None if app.last_reported_at is None else format_instant(app.last_reported_at)


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="A table to read, or a JSON list to pipe into jq.",
)
@pass_settings
def apps(settings: Settings, fmt: str) -> None:
    """List the apps the API key can see: id, name, last report.

    \b
    scout-async apps
    scout-async apps --format json | jq '.[].id'
    """
    found = run_with_client(settings, lambda client: client.apps.list())
    if fmt == "json":
        rows = [{"id": a.id, "name": a.name, "last_reported_at": _reported(a)} for a in found]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    table = Table(header_style="bold")
    table.add_column("id", justify="right")
    table.add_column("name")
    table.add_column("last reported")
    for app in found:
        table.add_row(str(app.id), Text(app.name), _reported(app) or "-")
    stdout_console().print(table)
