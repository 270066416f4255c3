"""Ordered, concurrent, bounded fetching of a plan's chunks.

Chunks start in time order; at most ``window`` of them are in flight or finished-but-not-yet-taken
at once, and a slot frees only when its chunk has been handed to the consumer. A slow consumer
therefore slows the fetching instead of growing a buffer, and a consumer that keeps up sees
``window`` requests in flight. The plan is read lazily, one chunk ahead of each launch, so the
memory held is bounded by ``window`` whatever the length of the plan.

The producer runs in a task group that never spans a ``yield`` of the caller's generator: it hands
chunks over a zero-buffer memory object stream (anyio docs, "cancellation" in async generators).
A consumer that goes away (``break``, cancellation, an error of its own) closes its receiving end;
the producer then stops quietly: abandoning a stream is normal use, not a failure to report.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterable
from typing import Generic, TypeVar

import anyio
import anyio.abc
import attrs
from anyio.abc import ObjectSendStream

from .._exceptions import ScoutError
from .planner import Chunk

__all__ = ["CONSUMER_GONE", "ChunkDone", "Failed", "Finished", "produce_chunks"]

T = TypeVar("T")

#: What sending to a consumer that went away raises: its end was closed (``BrokenResourceError``)
#: or, by an older clean-up, ours (``ClosedResourceError``).
CONSUMER_GONE = (anyio.BrokenResourceError, anyio.ClosedResourceError)


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


@attrs.define(eq=False)
class _Slot:
    """One launched chunk; ``done`` is set once its fetch ended (``error`` if it failed)."""

    index: int
    chunk: Chunk
    scope: anyio.CancelScope = attrs.field(factory=anyio.CancelScope)
    done: anyio.Event = attrs.field(factory=anyio.Event)
    error: BaseException | None = None


async def produce_chunks(
    chunks: Iterable[Chunk],
    fetch: Callable[[Chunk], Awaitable[T]],
    send: ObjectSendStream[ChunkDone[T] | Failed | Finished],
    *,
    window: int,
) -> None:
    """Fetch ``chunks`` with at most ``window`` outstanding and send results in plan order.

    A failure is sent as ``Failed`` once every chunk before it was sent, so the consumer keeps the
    longest complete prefix; nothing after a failure is started. ``ScoutError``s get
    ``resume_from`` set to the start of the failed chunk. ``send`` is closed at the end; if the
    consumer closed its end meanwhile, the fetching stops and nothing is raised.
    """
    window = max(1, window)
    slots = anyio.Semaphore(window)
    running: dict[int, _Slot] = {}  # launched, not yet sent: at most ``window``
    results: dict[int, T] = {}
    failed = False
    unplanned: Failed | None = None  # the plan itself failed to give its next chunk (a bug)
    # The launcher hands each slot to the sender in plan order; the semaphore bounds the buffer.
    hand, take = anyio.create_memory_object_stream[_Slot](window)

    async def run(slot: _Slot) -> None:
        nonlocal failed
        try:
            with slot.scope:
                results[slot.index] = await fetch(slot.chunk)
        except Exception as exc:
            slot.error = exc
            failed = True
            # Chunks after a failed one will never be sent: stop them now, not when the
            # consumer catches up. Chunks before it still complete the prefix.
            for later in list(running.values()):
                if later.index > slot.index:
                    later.scope.cancel()
        finally:
            slot.done.set()

    async def launch(tg: anyio.abc.TaskGroup) -> None:
        nonlocal unplanned
        async with hand:
            planned = iter(chunks)
            index = 0
            while True:
                await slots.acquire()
                if failed:
                    return
                try:
                    chunk = next(planned)
                except StopIteration:
                    return
                except Exception as exc:
                    unplanned = Failed(index, exc)
                    return
                slot = running[index] = _Slot(index, chunk)
                tg.start_soon(run, slot)
                hand.send_nowait(slot)  # never full: at most ``window`` slots are held
                index += 1

    outcome: Failed | Finished = Finished()
    gone = False
    async with send, take:
        async with anyio.create_task_group() as tg:
            tg.start_soon(launch, tg)
            try:
                async for slot in take:
                    await slot.done.wait()
                    del running[slot.index]
                    if slot.error is not None:
                        error = slot.error
                        if isinstance(error, ScoutError) and error.resume_from is None:
                            error.resume_from = slot.chunk.owned_start
                        outcome = Failed(slot.index, error)
                        # Stop what is in flight; the failure is sent once the group unwound.
                        tg.cancel_scope.cancel()
                        break
                    await send.send(ChunkDone(slot.index, slot.chunk, results.pop(slot.index)))
                    slots.release()
                else:
                    outcome = unplanned or outcome
            except CONSUMER_GONE:
                gone = True
                tg.cancel_scope.cancel()
        if not gone:
            with contextlib.suppress(*CONSUMER_GONE):
                await send.send(outcome)
