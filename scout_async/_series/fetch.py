"""Ordered, concurrent, bounded fetching of a plan's chunks.

Chunks start in time order; at most ``window`` of them are in flight or finished-but-not-yet-taken
at once, and a slot frees only when its chunk has been handed to the consumer. A slow consumer
therefore slows the fetching instead of growing a buffer, and a consumer that keeps up sees
``window`` requests in flight.

The producer runs in a task group that never spans a ``yield`` of the caller's generator: it hands
chunks over a zero-buffer memory object stream (anyio docs, "cancellation" in async generators).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import anyio
import anyio.abc
import attrs
from anyio.abc import ObjectSendStream

from .._exceptions import ScoutError
from .planner import Chunk

__all__ = ["ChunkDone", "Failed", "Finished", "produce_chunks"]

T = TypeVar("T")


@attrs.frozen
class ChunkDone(Generic[T]):
    index: int
    chunk: Chunk
    result: T


@attrs.frozen
class Failed:
    index: int
    error: BaseException


@attrs.frozen
class Finished:
    """Sent last, so a consumer can tell a complete series from a producer that was stopped."""


Item = ChunkDone[T] | Failed | Finished


async def produce_chunks(
    chunks: list[Chunk],
    fetch: Callable[[Chunk], Awaitable[T]],
    send: ObjectSendStream[ChunkDone[T] | Failed | Finished],
    *,
    window: int,
) -> None:
    """Fetch ``chunks`` with at most ``window`` outstanding and send results in plan order.

    A failure is sent as ``Failed`` once every chunk before it was sent, so the consumer keeps the
    longest complete prefix; nothing after a failure is started. ``ScoutError``s get
    ``resume_from`` set to the start of the failed chunk.
    """
    window = max(1, window)
    results: dict[int, T] = {}
    errors: dict[int, BaseException] = {}
    done = [anyio.Event() for _ in chunks]
    slots = anyio.Semaphore(window)
    scopes: dict[int, anyio.CancelScope] = {}
    failed = False

    async def run(index: int) -> None:
        nonlocal failed
        scope = scopes[index] = anyio.CancelScope()
        try:
            with scope:
                results[index] = await fetch(chunks[index])
        except Exception as exc:
            errors[index] = exc
            failed = True
            # Chunks after a failed one will never be sent: stop them now, not when the
            # consumer catches up. Chunks before it still complete the prefix.
            for later, other in list(scopes.items()):
                if later > index:
                    other.cancel()
        finally:
            scopes.pop(index, None)
            done[index].set()

    async def launch(tg: anyio.abc.TaskGroup) -> None:
        for index in range(len(chunks)):
            await slots.acquire()
            if failed:
                return
            tg.start_soon(run, index)

    outcome: Failed | Finished = Finished()
    async with send:
        async with anyio.create_task_group() as tg:
            tg.start_soon(launch, tg)
            for index, chunk in enumerate(chunks):
                await done[index].wait()
                if index in errors:
                    error = errors.pop(index)
                    if isinstance(error, ScoutError) and error.resume_from is None:
                        error.resume_from = chunk.owned_start
                    outcome = Failed(index, error)
                    # Stop what is in flight; the failure is sent once the group has unwound.
                    tg.cancel_scope.cancel()
                    break
                await send.send(ChunkDone(index, chunk, results.pop(index)))
                slots.release()
        await send.send(outcome)
