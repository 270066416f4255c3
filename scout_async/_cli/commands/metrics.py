"""``metrics``: the metrics an app offers."""

from __future__ import annotations

import json
import sys

import click

from ..context import Settings, pass_settings, run_with_client

__all__ = ["metrics"]


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
    names = run_with_client(settings, lambda client: client.metrics.list(app_id))
    if fmt == "json":
        sys.stdout.write(json.dumps(names) + "\n")
    else:
        sys.stdout.write("".join(f"{name}\n" for name in names))
