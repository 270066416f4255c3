"""Ctrl-C and SIGTERM on the command line.

``run_loop`` runs the event loop of every command. Ctrl-C (SIGINT) cancels the work, which
unwinds (its client closes, its files are left as they are), and then ``run_loop`` raises
``KeyboardInterrupt``: the command group turns it into one ``error: interrupted (Ctrl-C)`` line
and exit code 130. A second Ctrl-C while the work unwinds raises ``KeyboardInterrupt`` at once.

asyncio's own Ctrl-C handling (``asyncio.Runner``, which ``anyio.run`` uses) is not relied on: it
cancels the main task and then raises ``KeyboardInterrupt`` only when the task's cancellation
count is back to 0, else ``CancelledError`` (a traceback) -- always so on Python 3.10, which has
no ``Task.uncancel``. So ``run_loop`` holds SIGINT itself from before the loop starts until after
it is closed, and asyncio leaves it alone.

``run_until_signalled`` is for long commands (backfill, archive, the exporter): Ctrl-C or SIGTERM
cancels the work, which finishes what it is writing (the writes are shielded) and returns, so the
command can say where it stopped; further signals are ignored meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Awaitable, Callable, Iterator
from types import FrameType
from typing import TypeVar

import anyio
import anyio.abc
import attrs

__all__ = ["run_loop", "run_until_signalled"]

T = TypeVar("T")


@attrs.define
class _Stop:
    """Who answers Ctrl-C: ``cancel`` is called on the event loop. A ``quiet`` one takes the
    Ctrl-C (its caller reports it) and ignores further ones while it is there."""

    cancel: Callable[[], None]
    quiet: bool


class _CtrlC:
    """The SIGINT handler while ``run_loop`` runs: the first Ctrl-C goes to the innermost
    ``_Stop``, on the loop (never inside the signal handler, which may have interrupted anyio
    itself); one that no quiet stop took makes ``run_loop`` raise ``KeyboardInterrupt``."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stops: list[_Stop] = []
        self.received = 0
        self.pending = False  # a Ctrl-C came that no quiet stop took

    def handle(self, signum: int, frame: FrameType | None) -> None:
        self.received += 1
        if self.received > 1:
            if self.stops and self.stops[-1].quiet:
                return
            raise KeyboardInterrupt
        self.pending = True
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.answer)

    def answer(self) -> None:
        if not self.pending or not self.stops:
            return
        stop = self.stops[-1]
        if stop.quiet:
            self.pending = False
        stop.cancel()

    @contextlib.contextmanager
    def stopping(self, cancel: Callable[[], None], *, quiet: bool) -> Iterator[None]:
        """Ctrl-C calls ``cancel`` while in this block (at once if one already came)."""
        stop = _Stop(cancel, quiet)
        self.stops.append(stop)
        try:
            if self.pending:
                self.answer()
            yield
        finally:
            self.stops.remove(stop)


#: The handler of the ``run_loop`` running now, if any (there is one event loop at a time).
_current: list[_CtrlC] = []


def run_loop(work: Callable[[], Awaitable[T]]) -> T:
    """``anyio.run(work)``, where Ctrl-C cancels ``work`` and then raises ``KeyboardInterrupt``
    (see the module docstring). It is plain ``anyio.run`` off the main thread, and when SIGINT
    is not the interpreter's usual ``KeyboardInterrupt`` (ignored, as for a job started in the
    background by a script, or handled by whoever runs the command).

    >>> found = run_loop(lambda: client.apps.list())
    """
    previous = signal.getsignal(signal.SIGINT)
    if (
        threading.current_thread() is not threading.main_thread()
        or previous is not signal.default_int_handler
    ):
        return anyio.run(work)
    ctrl_c = _CtrlC()
    signal.signal(signal.SIGINT, ctrl_c.handle)
    _current.append(ctrl_c)
    try:
        results = anyio.run(_cancellable, ctrl_c, work)
    except BaseException:
        if ctrl_c.pending:
            raise KeyboardInterrupt from None
        raise
    finally:
        _current.remove(ctrl_c)
        signal.signal(signal.SIGINT, previous)
    if ctrl_c.pending or not results:  # also when it came as the loop started or closed
        raise KeyboardInterrupt
    return results[0]


async def _cancellable(ctrl_c: _CtrlC, work: Callable[[], Awaitable[T]]) -> list[T]:
    """``[work()]``, or ``[]`` when Ctrl-C cancelled it (``run_loop`` then raises)."""
    results: list[T] = []
    ctrl_c.loop = asyncio.get_running_loop()
    try:
        with anyio.CancelScope() as scope, ctrl_c.stopping(scope.cancel, quiet=False):
            if not ctrl_c.pending:  # else it came before the loop ran: do not start
                results.append(await work())
    finally:
        ctrl_c.loop = None
    return results


async def _watch(
    stop: Callable[[str], None],
    numbers: tuple[signal.Signals, ...],
    *,
    task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    with contextlib.ExitStack() as stack:
        try:
            signals = stack.enter_context(anyio.open_signal_receiver(*numbers))
        except (NotImplementedError, RuntimeError, ValueError):
            # Windows, or not the main thread: Ctrl-C raises KeyboardInterrupt as usual.
            task_status.started()
            return
        task_status.started()
        async for number in signals:
            stop(signal.Signals(number).name)


async def run_until_signalled(work: Callable[[], Awaitable[T]]) -> tuple[T | None, str | None]:
    """``(work's result, None)``, or ``(None, "SIGINT")`` when a signal cancelled it.

    Under ``run_loop`` Ctrl-C comes from it; SIGTERM (and Ctrl-C otherwise) from the event loop's
    signal handling.

    >>> result, signalled = await run_until_signalled(lambda: client.backfill(...))
    """
    received: list[str] = []
    results: list[T] = []
    failure: Exception | None = None
    ctrl_c = _current[-1] if _current else None
    numbers = (signal.SIGTERM,) if ctrl_c is not None else (signal.SIGINT, signal.SIGTERM)
    async with anyio.create_task_group() as tg:
        scope = anyio.CancelScope()

        def stop(name: str) -> None:
            if not received:
                received.append(name)
                scope.cancel()

        await tg.start(_watch, stop, numbers)
        with contextlib.ExitStack() as stack:
            if ctrl_c is not None:
                stack.enter_context(ctrl_c.stopping(lambda: stop("SIGINT"), quiet=True))
            with scope:
                try:
                    results.append(await work())
                except Exception as exc:  # raised below, outside the task group (no group)
                    failure = exc
        tg.cancel_scope.cancel()
    if failure is not None:
        raise failure
    return (results[0] if results else None), (received[0] if received else None)
