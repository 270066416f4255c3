"""Stopping a long command cleanly: Ctrl-C or SIGTERM cancels the work, which finishes what it
is writing (the writes are shielded) and returns; further signals are ignored meanwhile."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio
import anyio.abc

__all__ = ["run_until_signalled"]

T = TypeVar("T")


async def _watch(
    work: anyio.CancelScope,
    received: list[str],
    *,
    task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    with contextlib.ExitStack() as stack:
        try:
            signals = stack.enter_context(anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM))
        except (NotImplementedError, RuntimeError, ValueError):
            # Windows, or not the main thread: Ctrl-C raises KeyboardInterrupt as usual.
            task_status.started()
            return
        task_status.started()
        async for number in signals:
            if not received:
                received.append(signal.Signals(number).name)
                work.cancel()


async def run_until_signalled(work: Callable[[], Awaitable[T]]) -> tuple[T | None, str | None]:
    """``(work's result, None)``, or ``(None, "SIGINT")`` when a signal cancelled it.

    >>> result, signalled = await run_until_signalled(lambda: client.backfill(...))
    """
    received: list[str] = []
    results: list[T] = []
    failure: Exception | None = None
    async with anyio.create_task_group() as tg:
        scope = anyio.CancelScope()
        await tg.start(_watch, scope, received)
        with scope:
            try:
                results.append(await work())
            except Exception as exc:  # raised below, outside the task group (no group)
                failure = exc
        tg.cancel_scope.cancel()
    if failure is not None:
        raise failure
    return (results[0] if results else None), (received[0] if received else None)
