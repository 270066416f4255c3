"""Durable file operations: replace a file atomically, make a new directory entry stick."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["fsync_directory", "fsync_file", "replace_atomically"]


def fsync_directory(directory: Path) -> None:
    """Persist the entries of ``directory`` (a created, renamed or removed file) on POSIX."""
    if os.name != "posix":  # Windows cannot open a directory; its renames are journaled
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    """Persist what was written to ``path`` through any handle (fsync works per file)."""
    with open(path, "ab") as handle:  # write access: Windows refuses fsync on a read-only handle
        os.fsync(handle.fileno())


def replace_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so a reader (or a crash) sees the old file or the new one whole:
    a temporary file in the same directory, fsync, ``os.replace``, fsync of the directory."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    fsync_directory(path.parent)
