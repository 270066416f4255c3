"""``apps``: the apps the key can see; ``apps show APP``: one of them."""

from __future__ import annotations

import click
from rich.console import RenderableType
from rich.text import Text

from ...types._models import App
from ..context import Settings, choose_format, pass_settings, run_with_client
from ..options import (
    APP_ARGUMENT,
    app_option,
    format_option,
    limit_option,
    listing_limit,
    resolve_app,
)
from ..render import Column, facts_table, limited, listing_console, print_table, write_json
from ..times import format_instant

__all__ = ["apps"]


def _reported(app: App) -> str | None:
    return None if app.last_reported_at is None else format_instant(app.last_reported_at)


def _record(app: App) -> dict[str, object]:
    return {"id": app.id, "name": app.name, "last_reported_at": _reported(app)}


APP_COLUMNS = (
    Column("id", lambda a: str(a.id), justify="right"),
    Column("name", lambda a: Text(a.name), kind="text"),
    Column("last reported (UTC)", lambda a: _reported(a) or "-", kind="time"),
)


@click.group(invoke_without_command=True)
@format_option("table", "json")
@limit_option
@click.pass_context
def apps(ctx: click.Context, fmt: str | None) -> None:
    """List the apps the API key can see: id, name, last report (`apps show APP` for one).

    \b
    scout-async apps
    scout-async apps --json | jq '.[].id'
    """
    if ctx.invoked_subcommand is not None:
        return
    settings = ctx.find_object(Settings)
    assert settings is not None
    _list(settings, fmt)


def _list(settings: Settings, fmt: str | None) -> None:
    found = run_with_client(settings, lambda client: client.apps.list())
    if choose_format(fmt, settings, "table") == "json":
        shown, _ = limited(found, listing_limit(settings))
        write_json([_record(a) for a in shown])
        return
    print_table(found, APP_COLUMNS, empty="the key sees no apps", limit=listing_limit(settings))


@apps.command(name="list")
@format_option("table", "json")
@limit_option
@pass_settings
def list_(settings: Settings, fmt: str | None) -> None:
    """The same as `apps` (as Scout's Go CLI spells it)."""
    _list(settings, fmt)


@apps.command()
@APP_ARGUMENT
@app_option
@format_option("text", "json")
@pass_settings
def show(settings: Settings, app_id: int | None, fmt: str | None) -> None:
    """Show one app: its id, name and last report (APP, or the default app).

    \b
    scout-async apps show 101
    """
    app = resolve_app(settings, app_id)
    found = run_with_client(settings, lambda client: client.apps.get(app))
    if choose_format(fmt, settings, "text") == "json":
        write_json(_record(found))
        return
    rows: list[tuple[str, RenderableType]] = [("app", Text(found.name)), ("id", str(found.id))]
    rows.append(("last reported", _reported(found) or "-"))
    listing_console().print(facts_table(rows))
