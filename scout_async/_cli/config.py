"""The command line's config file: named profiles, each with an API key, a URL and a default app.

The file is JSON (``config.json``) in the platform's config directory (``~/.config/scout-async``
on Linux, ``~/Library/Application Support/scout-async`` on macOS, ``%APPDATA%\\scout-async`` on
Windows), or wherever ``SCOUT_CONFIG`` points::

    {
      "default_profile": "default",
      "profiles": {
        "default": {"api_key": "...", "api_url": "https://scoutapm.com", "default_app": 101},
        "staging": {"api_key": "...", "default_app": 7}
      }
    }

The profile is ``--profile``, else ``SCOUT_PROFILE``, else ``default_profile``, else ``default``.
Every write replaces the file atomically with permissions 0600 (it holds keys), in a directory
made 0700.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import attrs
import click

__all__ = [
    "API_PREFIX",
    "APP_ENV",
    "CONFIG_ENV",
    "DEFAULT_PROFILE",
    "PROFILE_ENV",
    "PROFILE_KEYS",
    "ConfigFile",
    "Profile",
    "config_path",
    "normalize_url",
]

CONFIG_ENV = "SCOUT_CONFIG"
PROFILE_ENV = "SCOUT_PROFILE"
APP_ENV = "SCOUT_APP"
DEFAULT_PROFILE = "default"
API_PREFIX = "/api/v0"
#: What ``config set`` may write, and what each holds.
PROFILE_KEYS = {
    "api_url": "the API's URL; a bare host such as https://scoutapm.com gets /api/v0",
    "default_app": "the app id used when a command is given none",
}


def config_path() -> Path:
    """``SCOUT_CONFIG``, or ``config.json`` in the platform's config directory."""
    given = os.environ.get(CONFIG_ENV)
    if given:
        return Path(given).expanduser()
    return Path(click.get_app_dir("scout-async")) / "config.json"


def normalize_url(url: str) -> str:
    """A URL as the API wants it: a bare host (``https://scoutapm.com``, as Scout's Go CLI takes
    it) gets ``/api/v0``; anything with a path is left as it is.

    >>> normalize_url("https://scoutapm.com")
    'https://scoutapm.com/api/v0'
    """
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme in ("http", "https") and parts.netloc and parts.path in ("", "/"):
        return urlunsplit((parts.scheme, parts.netloc, API_PREFIX, parts.query, parts.fragment))
    return text


@attrs.frozen
class Profile:
    """One profile of the config file (every field may be missing)."""

    name: str
    api_key: str | None = attrs.field(default=None, repr=False)
    api_url: str | None = None
    default_app: int | None = None


def _profile(name: str, data: object) -> Profile:
    fields = data if isinstance(data, Mapping) else {}
    key, url, app = fields.get("api_key"), fields.get("api_url"), fields.get("default_app")
    return Profile(
        name=name,
        api_key=key if isinstance(key, str) and key else None,
        api_url=url if isinstance(url, str) and url else None,
        default_app=app if isinstance(app, int) and not isinstance(app, bool) and app > 0 else None,
    )


class ConfigFile:
    """The config file at ``path`` (``config_path()`` by default); a missing file is empty."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else config_path()

    def read(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise click.UsageError(
                f"cannot read the config file {self.path}: {exc.strerror}"
            ) from None
        try:
            data = json.loads(text) if text.strip() else {}
        except ValueError as exc:
            raise click.UsageError(
                f"the config file {self.path} is not valid JSON ({exc}); fix or delete it"
            ) from None
        if not isinstance(data, dict):
            raise click.UsageError(f"the config file {self.path} does not hold a JSON object")
        return data

    def profile_name(self, given: str | None) -> str:
        """``given`` (``--profile``/``SCOUT_PROFILE``), else the file's default, else
        ``default``."""
        if given:
            return given
        chosen = self.read().get("default_profile")
        return chosen if isinstance(chosen, str) and chosen else DEFAULT_PROFILE

    def profiles(self) -> dict[str, Profile]:
        found = self.read().get("profiles")
        if not isinstance(found, dict):
            return {}
        return {str(name): _profile(str(name), data) for name, data in found.items()}

    def profile(self, name: str) -> Profile:
        """The profile ``name``; an empty one if the file does not have it."""
        return self.profiles().get(name, Profile(name=name))

    def update(self, name: str, **changes: object) -> None:
        """Set (or, with ``None``, remove) fields of profile ``name``, creating it."""
        data = self.read()
        profiles = data.get("profiles")
        if not isinstance(profiles, dict):
            profiles = {}
        fields = profiles.get(name)
        fields = dict(fields) if isinstance(fields, dict) else {}
        for key, value in changes.items():
            if value is None:
                fields.pop(key, None)
            else:
                fields[key] = value
        profiles[name] = fields
        data["profiles"] = profiles
        self.write(data)

    def write(self, data: Mapping[str, Any]) -> None:
        """Replace the file atomically, readable by its owner only."""
        directory = self.path.parent
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=".config.", suffix=".tmp", dir=directory)
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        with contextlib.suppress(OSError):
            os.chmod(self.path, 0o600)
