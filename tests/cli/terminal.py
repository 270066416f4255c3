"""Running the command line on a real pseudo-terminal of a given size (Python's ``pty``)."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


def on_terminal(
    args: list[str], *, columns: int, env: dict[str, str], rows: int = 60, timeout: float = 60
) -> tuple[int, str]:
    """``python -m scout_async ARGS`` with stdin, stdout and stderr on one pseudo-terminal of
    ``columns`` x ``rows``; its exit code and everything it wrote (escape codes and all)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "scout_async", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=ROOT,
        env={**os.environ, "TERM": "xterm-256color", "COLUMNS": str(columns), **env},
        close_fds=True,
    )
    os.close(slave)
    out = b""
    try:
        while True:
            ready, _, _ = select.select([master], [], [], timeout)
            if not ready:
                process.kill()
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        code = process.wait(timeout=timeout)
    finally:
        os.close(master)
    return code, out.decode(errors="replace")


def plain(text: str) -> str:
    """What stays on the screen, line by line: a carriage return or an erase-line code starts a
    line over (a redrawn progress bar keeps its last state); other escape codes go."""
    lines = []
    for line in text.replace("\x1b[2K", "\r").split("\n"):
        segments = [_ESCAPES.sub("", part) for part in line.split("\r")]
        kept = [part for part in segments if part]
        lines.append(kept[-1] if kept else "")
    return "\n".join(lines)
