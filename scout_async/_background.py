"""Background jobs that outlive the call that started them, owned by the client.

A stream's producer must not live in a task group spanning the consumer's ``yield``s (breaking out
of ``async for`` finalizes the generator in another task, where a task group cannot be exited),
nor in a task group entered by the client (pytest fixtures and app lifespans enter and exit in
different tasks). So each producer is a task of its own on the running event loop, asyncio or trio,
cancelled through a ``CancelScope`` by its stream or by ``ScoutClient.aclose()``.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable

import anyio

from ._constants import LOGGER_NAME

__all__ = ["BackgroundJobs"]

logger = logging.getLogger(LOGGER_NAME)


class BackgroundJobs:
    def __init__(self) -> None:
        self._running: dict[anyio.CancelScope, anyio.Event] = {}
        self._asyncio_tasks: set[asyncio.Task[None]] = set()

    def spawn(self, job: Callable[[], Awaitable[None]]) -> anyio.CancelScope:
        """Start ``job`` now; ``scope.cancel()`` stops it. It never raises into the event loop:
        ``job`` must report its own failures (streams send them to their consumer)."""
        scope = anyio.CancelScope()
        finished = anyio.Event()
        self._running[scope] = finished

        async def run() -> None:
            try:
                with scope:
                    await job()
            except Exception as exc:
                if _consumer_gone(exc):
                    # Its consumer went away (a ``break``, a cancel, an error of its own) while
                    # it was handing over a result: normal use, nothing to report.
                    logger.debug("a background job of scout_async lost its consumer", exc_info=True)
                else:  # a bug, not a request failure: those travel to the consumer
                    logger.exception("a background job of scout_async failed")
            finally:
                self._running.pop(scope, None)
                finished.set()

        if _running_on_trio():
            import trio

            trio.lowlevel.spawn_system_task(run)
        else:
            task = asyncio.get_running_loop().create_task(run())
            self._asyncio_tasks.add(task)  # the loop keeps only weak references to tasks
            task.add_done_callback(self._asyncio_tasks.discard)
        return scope

    @property
    def running(self) -> int:
        return len(self._running)

    async def aclose(self) -> None:
        """Cancel every job still running and wait until each has ended."""
        pending = list(self._running.items())
        for scope, _ in pending:
            scope.cancel()
        for _, finished in pending:
            await finished.wait()


def _consumer_gone(exc: BaseException) -> bool:
    """Whether ``exc`` (or every error of a group) says the stream to the consumer was closed."""
    inner = getattr(exc, "exceptions", None)
    if isinstance(exc, Exception) and isinstance(inner, tuple) and inner:  # an exception group
        return all(_consumer_gone(error) for error in inner)
    return isinstance(exc, (anyio.BrokenResourceError, anyio.ClosedResourceError))


def _running_on_trio() -> bool:
    trio = sys.modules.get("trio")
    if trio is None:
        return False
    try:
        trio.lowlevel.current_task()
    except RuntimeError:
        return False
    return True
