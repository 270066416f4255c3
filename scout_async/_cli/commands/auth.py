"""``auth login``, ``auth status``, ``auth logout``: the API key of a profile in the config file.

The key is read from a hidden prompt, or from stdin when it is not a terminal (``pass scout |
scout-async auth login``), or ``--key`` (which shows in ``ps`` and shell history); it is checked
against the API before it is stored, and it is never printed: ``status`` shows its last four
characters only.
"""

from __future__ import annotations

import sys
from typing import Any

import attrs
import click

from ..._constants import DEFAULT_BASE_URL
from ..context import Settings, choose_format, pass_settings, run_with_client, stderr_console
from ..render import facts_table, listing_console, print_json

__all__ = ["auth", "masked"]


def masked(key: str | None) -> str:
    """``••••9e7a``: enough to tell two keys apart, never the key."""
    if not key:
        return "-"
    return "••••" + key[-4:] if len(key) > 8 else "•" * len(key)


def _say(text: str) -> None:
    stderr_console().print(text, markup=False, highlight=False, soft_wrap=True)


@click.group()
def auth() -> None:
    """Store, show and forget the API key of a profile (see `config path` for the file)."""


def _read_key(given: str | None) -> str:
    if given:
        return given.strip()
    if not sys.stdin.isatty():
        return sys.stdin.readline().strip()
    value: str = click.prompt(
        "Scout API key (organization settings -> API tokens)", hide_input=True, err=True
    )
    return value.strip()


@auth.command()
@click.option(
    "--key",
    metavar="KEY",
    default=None,
    help="The key. Without it: a hidden prompt, or one line of stdin when it is not a terminal.",
)
@click.option(
    "--no-verify", is_flag=True, help="Store the key without asking the API whether it works."
)
@pass_settings
def login(settings: Settings, key: str | None, no_verify: bool) -> None:
    """Check an API key against Scout and store it in the profile (file mode 0600).

    \b
    scout-async auth login
    scout-async --profile staging auth login < key.txt
    """
    secret = _read_key(key)
    if not secret:
        raise click.UsageError("no key given: type it at the prompt, pipe it in, or pass --key")
    checked = attrs.evolve(settings, api_key=secret, key_source="login")
    if not no_verify:
        found = run_with_client(checked, lambda client: client.apps.list())
        count = len(found)
        _say(f"The key works: it sees {count} app{'s' if count != 1 else ''}.")
    settings.config.update(settings.profile, api_key=secret)
    _say(f"Stored the key in profile {settings.profile!r} of {settings.config.path}.")


@auth.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default=None,
    help="Text to read, or JSON.  [default: text on a terminal, else json]",
)
@pass_settings
def status(settings: Settings, fmt: str | None) -> None:
    """Show where the key and the URL come from, and the default app; the key is masked."""
    data: dict[str, Any] = {
        "profile": settings.profile,
        "config_file": str(settings.config.path),
        "authenticated": settings.api_key is not None,
        "api_key": masked(settings.api_key) if settings.api_key else None,
        "api_key_source": settings.key_source,
        "api_url": settings.url or DEFAULT_BASE_URL,
        "default_app": settings.app,
        "default_app_source": settings.app_source,
    }
    if choose_format(fmt, settings, "text") == "json":
        print_json(data)
        return
    rows = [
        ("profile", f"{settings.profile} ({settings.config.path})"),
        (
            "API key",
            f"{masked(settings.api_key)} (from {settings.key_source})"
            if settings.api_key
            else "none: run `scout-async auth login`",
        ),
        ("API URL", data["api_url"]),
        (
            "default app",
            "-" if settings.app is None else f"{settings.app} (from {settings.app_source})",
        ),
    ]
    listing_console().print(facts_table(rows))


@auth.command()
@pass_settings
def logout(settings: Settings) -> None:
    """Forget the key stored in the profile (the rest of the profile stays)."""
    if settings.config.profile(settings.profile).api_key is None:
        _say(f"No key is stored in profile {settings.profile!r}; nothing to forget.")
        return
    settings.config.update(settings.profile, api_key=None)
    _say(f"Removed the key from profile {settings.profile!r} of {settings.config.path}.")
