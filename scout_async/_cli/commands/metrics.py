"""``metrics``: the metrics an app offers, with their units."""

from __future__ import annotations

import click

from ..context import Settings, choose_format, pass_settings, run_with_client
from ..options import APP_ARGUMENT, app_option, resolve_app
from ..render import write_json
from ..units import metric_unit

__all__ = ["metrics"]


@click.command()
@APP_ARGUMENT
@app_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default=None,
    help="One name per line, or a JSON list.  [default: text on a terminal, json off it]",
)
@click.option(
    "--units", is_flag=True, help="Each metric's unit too (text: a second column; json: objects)."
)
@pass_settings
def metrics(settings: Settings, app_id: int | None, fmt: str | None, units: bool) -> None:
    """List the metrics APP (an app id, see `apps`) offers, one per line.

    \b
    scout-async metrics 101
    scout-async metrics 101 --units
    """
    app = resolve_app(settings, app_id)
    names = run_with_client(settings, lambda client: client.metrics.list(app))
    if choose_format(fmt, settings, "text") == "json":
        if units:
            write_json(
                [
                    {"metric": n, "unit": metric_unit(n).symbol, "meaning": metric_unit(n).meaning}
                    for n in names
                ]
            )
        else:
            write_json(names)
        return
    if units:
        width = max((len(name) for name in names), default=0)
        click.echo(
            "".join(
                f"{name:<{width}}  {metric_unit(name).symbol} ({metric_unit(name).meaning})\n"
                for name in names
            ),
            nl=False,
        )
        return
    click.echo("".join(f"{name}\n" for name in names), nl=False)
