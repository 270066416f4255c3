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
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Generic, TypeVar, cast

import anyio
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
class _Slot(Generic[T]):
    """One launched chunk; ``done`` is set once its fetch ended (``result`` or ``error``)."""

    index: int
    chunk: Chunk
    scope: anyio.CancelScope = attrs.field(factory=anyio.CancelScope)
    done: anyio.Event = attrs.field(factory=anyio.Event)
    result: T | None = None
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

    One loop launches and hands over: it tops the chunks in flight up to ``window`` (in plan
    order), waits for the oldest, sends it, and tops up again; a task per chunk does the fetching.
    """
    window = max(1, window)
    planned: Iterator[Chunk] | None = iter(chunks)
    pending: deque[_Slot[T]] = deque()  # launched, not yet sent, in plan order: <= ``window``
    failed = False
    unplanned: Failed | None = None  # the plan itself failed to give its next chunk (a bug)
    index = 0

    async def run(slot: _Slot[T]) -> None:
        nonlocal failed
        try:
            with slot.scope:
                slot.result = await fetch(slot.chunk)
        except Exception as exc:
            slot.error = exc
            failed = True
            # Chunks after a failed one will never be sent: stop them now, not when the
            # consumer catches up. Chunks before it still complete the prefix.
            for later in pending:
                if later.index > slot.index:
                    later.scope.cancel()
        finally:
            slot.done.set()

    outcome: Failed | Finished = Finished()
    gone = False
    async with send:
        async with anyio.create_task_group() as tg:
            try:
                while True:
                    while planned is not None and len(pending) < window and not failed:
                        try:
                            chunk = next(planned)
                        except StopIteration:
                            planned = None
                            break
                        except Exception as exc:
                            unplanned = Failed(index, exc)
                            planned = None
                            break
                        slot: _Slot[T] = _Slot(index, chunk)
                        pending.append(slot)
                        tg.start_soon(run, slot)
                        index += 1
                    if not pending:
                        outcome = unplanned or outcome
                        break
                    slot = pending[0]
                    await slot.done.wait()
                    pending.popleft()
                    if slot.error is not None:
                        error = slot.error
                        if isinstance(error, ScoutError) and error.resume_from is None:
                            error.resume_from = slot.chunk.owned_start
                        outcome = Failed(slot.index, error)
                        # Stop what is in flight; the failure is sent once the group unwound.
                        tg.cancel_scope.cancel()
                        break
                    result, slot.result = cast(T, slot.result), None
                    await send.send(ChunkDone(slot.index, slot.chunk, result))
            except CONSUMER_GONE:
                gone = True
                tg.cancel_scope.cancel()
        if not gone:
            with contextlib.suppress(*CONSUMER_GONE):
                await send.send(outcome)
