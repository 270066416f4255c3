"""The ``scout-async`` command line: ``apps``, ``metrics``, ``fetch``, ``backfill``, ``archive``,
the API listings (``endpoints``, ``jobs``, ``traces``, ``trace``, ``errors``, ``error``,
``anomalies``, ``insights``, ``usage``) and ``demo``.

``run`` is the ``scout-async`` entry point and ``python -m scout_async``: it says in one line which
extra to install when the command line's packages are missing. ``main`` is the click command
group itself (for ``CliRunner``), loaded on first use.
"""

from __future__ import annotations

import atexit
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import main

__all__ = ["main", "run"]

#: What ``pip install 'scout-async[cli]'`` brings (the demo serves the simulator).
_EXTRA_PACKAGES = frozenset({"click", "rich", "asciichartpy", "starlette", "uvicorn"})
_MISSING_EXTRA = (
    "error: the scout-async command line needs the cli extra: pip install 'scout-async[cli]'"
)


def run() -> None:
    """Run the command line on ``sys.argv``: the process's entry point (once it is over, Ctrl-C
    is ignored while the interpreter exits)."""
    try:
        _run()
    finally:
        _settled()


def _run() -> None:
    try:
        from .app import main
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in _EXTRA_PACKAGES:
            raise
        sys.stderr.write(_MISSING_EXTRA + "\n")
        raise SystemExit(1) from None
    except KeyboardInterrupt:  # Ctrl-C while the command line loads
        _interrupted()
    try:
        main(prog_name="scout-async")
    except KeyboardInterrupt:  # Ctrl-C that reached past the command group's own handling
        _interrupted()


def _interrupted() -> None:
    sys.stderr.write("error: interrupted (Ctrl-C)\n")
    raise SystemExit(130) from None


def _settled() -> None:
    """The command is over and its exit code is set: from here on Ctrl-C is ignored, so it
    cannot kill the interpreter by the signal (no message, exit status -2) while it shuts down,
    which takes a good tenth of a second. Unless a thread the interpreter waits for at exit is
    still running: then only once it is done (an ``atexit`` call), so a hang there can still be
    interrupted."""
    if threading.current_thread() is not threading.main_thread():
        return
    others = [t for t in threading.enumerate() if t is not threading.current_thread()]
    if any(not thread.daemon for thread in others):
        atexit.register(_ignore_ctrl_c)
    else:
        _ignore_ctrl_c()


def _ignore_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def __getattr__(name: str) -> Any:
    if name == "main":
        from .app import main

        return main
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
