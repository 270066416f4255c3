"""The ``scout-async`` command line: ``apps``, ``metrics``, ``fetch``, ``backfill``, ``archive``,
the API listings (``endpoints``, ``jobs``, ``traces``, ``trace``, ``errors``, ``error``,
``anomalies``, ``insights``, ``usage``) and ``demo``.

``run`` is the ``scout-async`` entry point and ``python -m scout_async``: it says in one line which
extra to install when the command line's packages are missing. ``main`` is the click command
group itself (for ``CliRunner``), loaded on first use.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import main

__all__ = ["main", "run"]

#: What ``pip install 'scout-async[cli]'`` brings (the demo serves the simulator).
_EXTRA_PACKAGES = frozenset({"click", "rich", "starlette", "uvicorn"})
_MISSING_EXTRA = (
    "error: the scout-async command line needs the cli extra: pip install 'scout-async[cli]'"
)


def run() -> None:
    """Run the command line on ``sys.argv``."""
    try:
        from .app import main
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in _EXTRA_PACKAGES:
            raise
        sys.stderr.write(_MISSING_EXTRA + "\n")
        raise SystemExit(1) from None
    main(prog_name="scout-async")


def __getattr__(name: str) -> Any:
    if name == "main":
        from .app import main

        return main
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
