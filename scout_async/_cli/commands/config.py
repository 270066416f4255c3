"""``config``: where the config file is, what the profile holds, and setting its URL and default
app (the key is set with ``auth login``)."""

from __future__ import annotations

from typing import Any

import click

from ..config import PROFILE_KEYS, normalize_url
from ..context import Settings, choose_format, pass_settings, stderr_console
from ..render import facts_table, listing_console, print_json
from .auth import masked

__all__ = ["config"]


@click.group()
def config() -> None:
    """Show and change the config file's profiles: their URL and default app."""


@config.command()
@pass_settings
def path(settings: Settings) -> None:
    """Print the config file's path (SCOUT_CONFIG moves it)."""
    click.echo(str(settings.config.path))


@config.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default=None,
    help="Text to read, or JSON.  [default: text on a terminal, else json]",
)
@pass_settings
def show(settings: Settings, fmt: str | None) -> None:
    """Show every profile (keys masked) and which one is in use."""
    profiles = settings.config.profiles()
    data: dict[str, Any] = {
        "config_file": str(settings.config.path),
        "profile": settings.profile,
        "profiles": {
            name: {
                "api_key": masked(p.api_key) if p.api_key else None,
                "api_url": p.api_url,
                "default_app": p.default_app,
            }
            for name, p in profiles.items()
        },
    }
    if choose_format(fmt, settings, "text") == "json":
        print_json(data)
        return
    rows = [("file", str(settings.config.path)), ("in use", settings.profile)]
    for name, p in profiles.items():
        parts = [f"key {masked(p.api_key)}", f"url {p.api_url or '-'}"]
        parts.append(f"default app {p.default_app or '-'}")
        rows.append((f"profile {name}", ", ".join(parts)))
    listing_console().print(facts_table(rows))


@config.command(name="set")
@click.argument("name", type=click.Choice(sorted(PROFILE_KEYS)))
@click.argument("value")
@pass_settings
def set_(settings: Settings, name: str, value: str) -> None:
    """Set NAME of the profile: api_url (a bare host gets /api/v0) or default_app (an app id).

    \b
    scout-async config set default_app 101
    scout-async --profile eu config set api_url https://eu.scoutapm.example
    """
    stored: object = value
    if name == "default_app":
        stored = click.IntRange(min=1).convert(value, None, None)  # type: ignore[arg-type]
    elif name == "api_url":
        stored = normalize_url(value)
        if not str(stored).startswith(("http://", "https://")):
            raise click.BadParameter("an http(s) URL, such as https://scoutapm.com")
    settings.config.update(settings.profile, **{name: stored})
    stderr_console().print(
        f"Set {name} = {stored} in profile {settings.profile!r} of {settings.config.path}.",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


@config.command()
@click.argument("name", type=click.Choice(sorted(PROFILE_KEYS)))
@pass_settings
def unset(settings: Settings, name: str) -> None:
    """Remove NAME from the profile."""
    settings.config.update(settings.profile, **{name: None})


@config.command()
@click.argument("profile")
@pass_settings
def use(settings: Settings, profile: str) -> None:
    """Make PROFILE the default profile (SCOUT_PROFILE and --profile still win)."""
    data = settings.config.read()
    data["default_profile"] = profile
    settings.config.write(data)
