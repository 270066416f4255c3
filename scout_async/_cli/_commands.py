"""``apps`` and ``metrics``: what the key can see."""

from __future__ import annotations

import json
import sys

import anyio
import click
from rich.table import Table
from rich.text import Text

from .._constants import TIME_FORMAT
from .._models import App
from ._context import Settings, pass_settings, stdout_console

__all__ = ["apps", "metrics"]


async def _list_apps(settings: Settings) -> list[App]:
    async with settings.client() as client:
        return await client.apps.list()


async def _list_metrics(settings: Settings, app_id: int) -> list[str]:
    async with settings.client() as client:
        return await client.metrics.list(app_id)


def _reported(app: App) -> str | None:
    return None if app.last_reported_at is None else app.last_reported_at.strftime(TIME_FORMAT)


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
    found = anyio.run(_list_apps, settings)
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


@click.command()
@click.argument("app_id", metavar="APP", type=click.IntRange(min=1))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="One name per line, or a JSON list.",
)
@pass_settings
def metrics(settings: Settings, app_id: int, fmt: str) -> None:
    """List the metrics APP (an app id, see `apps`) offers, one per line.

    \b
    scout-async metrics 101
    """
    names = anyio.run(_list_metrics, settings, app_id)
    if fmt == "json":
        sys.stdout.write(json.dumps(names) + "\n")
    else:
        sys.stdout.write("".join(f"{name}\n" for name in names))
