"""Whether a file sink could write where it is pointed, asked before a backfill's first request.

A probe, not a guess from permission bits: root writes through them, while a read-only mount or a
pseudo file system refuses everyone. Nothing is left behind and nothing existing is changed.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["check_writable"]


def check_writable(path: Path, *, directory: bool, needs_directory: bool = False) -> None:
    """Raise the ``OSError`` (naming ``path``) that writing the sink at ``path`` would meet.

    ``directory``: ``path`` is a directory the sink fills with files (made if missing).
    Otherwise ``path`` is a file, written in place if it exists; ``needs_directory``: the sink
    also creates files next to it (SQLite's journal), so its directory must take new files too.
    """
    try:
        if directory:
            _probe(path if path.is_dir() else path.parent)
        else:
            if path.exists():
                with open(path, "r+b"):  # open for writing, changing nothing
                    pass
            if needs_directory or not path.exists():
                _probe(path.parent)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from None


def _probe(directory: Path) -> None:
    """Create and remove a file in ``directory``."""
    handle, name = tempfile.mkstemp(prefix=".scout-async-", suffix=".probe", dir=directory)
    os.close(handle)
    os.unlink(name)
