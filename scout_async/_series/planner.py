"""Split a time range into requests that Scout answers at one step (pure, no I/O).

Why this is not "cut into 14-day pieces": the caller cannot choose the step, Scout picks it from the
length of each requested window (see ``_steps.BANDS``). A series stitched from requests of different
lengths would mix granularities; "14 d, 14 d, remainder" answers the remainder at a finer step. So
uniformity has to come from the chunk lengths:

* **One target step** ``s`` for the whole range, picked once (:func:`target_step`): the caller's
  ``resolution``, or the step Scout gives the whole window as one request once it is aligned to the
  grid of that step (a window of at most 14 days), or 2 h for anything longer.
* **Even split on the grid**: the buckets overlapping ``[start, end)`` are cut into the fewest
  chunks a band allows, of equal size (±1 step), so each chunk is as far from the band's edges as
  possible instead of leaving a short remainder.
* **Widen backwards**: a chunk too short for its band (near the lower edge, or the last chunk cut
  short by an off-grid ``end``) gets a request window that starts earlier on the grid, until its
  length lies inside the band. Never forwards: ``end`` may be "now", and the future has no data.
* **Half-open ownership**: each chunk owns the grid points in ``[owned_start, owned_end)``; the
  owned ranges tile the series, so a point belongs to exactly one chunk. Filtering every response
  by ownership makes overlapping (widened) requests and an inclusive or exclusive ``to`` harmless.

All arithmetic is on UTC fixed durations, so DST never matters.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import overload

import attrs

from .._exceptions import ArgumentError
from .._time import display_time
from .instants import require_reachable, sent_window
from .steps import (
    MAX_WINDOW,
    Band,
    band_for_step,
    ceil_to_grid,
    floor_to_grid,
    format_step,
    parse_step,
    step_for_window,
)

__all__ = [
    "PLANNER_VERSION",
    "Chunk",
    "ChunkPlan",
    "at_upper_edge",
    "plan_range",
    "plan_series",
    "split_at_edge",
    "target_step",
]

#: Bump whenever a plan for the same arguments could change: checkpoints store it in their
#: fingerprint, and resuming with a different plan would skip or repeat points.
PLANNER_VERSION = 1

_TWO_HOURS = timedelta(hours=2)
_ONE_SECOND = timedelta(seconds=1)


@attrs.frozen
class Chunk:
    """One request of a plan.

    ``start``/``end`` are sent to Scout as ``from``/``to`` (at most 14 days, always inside the band
    of ``step``); the chunk contributes only the points in ``[owned_start, owned_end)``.
    """

    start: datetime
    end: datetime
    owned_start: datetime
    owned_end: datetime
    step: timedelta

    def owns(self, t: datetime) -> bool:
        """Whether the point at ``t`` belongs to this chunk (half-open: start in, end out)."""
        return self.owned_start <= t < self.owned_end


def _validate(start: object, end: object) -> tuple[datetime, datetime]:
    # Scout takes times in whole seconds, so the window is planned as it will be sent: a
    # fraction of a second past a grid point must not own a bucket no request can return.
    return sent_window(start, end)


def _target_step_utc(
    start: datetime, end: datetime, resolution: timedelta | str | None
) -> timedelta:
    if resolution is not None:
        return parse_step(resolution)
    if end - start > MAX_WINDOW:
        return _TWO_HOURS
    step = step_for_window(end - start)
    while True:
        # Aligning start down to the grid lengthens the request, which can cross into the next
        # band. Never step back down: the 2 m and 5 m grids are not nested, so aligning to 5 m can
        # shorten the request into the 2 m band again and the rule would cycle 2 m <-> 5 m forever.
        # Keeping the coarser step ends it (at most len(BANDS) rounds); plan_range then widens that
        # one request back a step into the 5 m band.
        length = end - floor_to_grid(start, step)
        if length > MAX_WINDOW:
            return _TWO_HOURS
        wider = max(step, step_for_window(length))
        if wider == step:
            return step
        step = wider


def target_step(start: datetime, end: datetime, resolution: timedelta | str | None) -> timedelta:
    """The one step every chunk of ``plan_range(start, end, resolution)`` is answered at.

    ``resolution`` if given (a ``timedelta`` or a string such as ``"5m"``); otherwise the step Scout
    gives ``[start, end)`` as a single grid-aligned request, or 2 h when that would exceed 14 days.
    """
    start_utc, end_utc = _validate(start, end)
    return _target_step_utc(start_utc, end_utc, resolution)


def _sent_length(request_start: datetime, request_end: datetime) -> timedelta:
    # Scout's clients send times at whole seconds; judge the band by the length Scout will see, so
    # a sub-second ``end`` cannot shrink a request onto its band's (exclusive) lower edge.
    return request_end - timedelta(microseconds=request_end.microsecond) - request_start


def _request_start(owned_start: datetime, request_end: datetime, band: Band) -> datetime:
    if _sent_length(owned_start, request_end) > band.lower:
        return owned_start
    # Too short: Scout would answer at a finer step. Move the start back to the latest grid point
    # that puts the length inside the band (more is wasted transfer; the extra is not owned).
    sent_end = request_end - timedelta(microseconds=request_end.microsecond)
    return ceil_to_grid(sent_end - band.lower, band.step) - band.step


def plan_range(
    start: datetime, end: datetime, resolution: timedelta | str | None = None
) -> list[Chunk]:
    """Plan the requests that fetch ``[start, end)`` at one step, in time order.

    The owned ranges tile ``[floor(start), ceil(end))`` on the step's epoch-aligned grid (every
    bucket overlapping ``[start, end)``). When the steps do not divide evenly, the earlier chunks
    get the extra step. The last request ends at ``end`` itself, never later.

    >>> start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> first, second = plan_range(start, start + timedelta(days=14, hours=2))
    >>> first.step, [(c.owned_end - c.owned_start) // c.step for c in (first, second)]
    (datetime.timedelta(seconds=7200), [85, 84])
    >>> second.end - second.start  # 84 x 2 h = 7 d is the 1 h band: widened back one step
    datetime.timedelta(days=7, seconds=7200)

    Raises ``TypeError`` for a non-datetime, ``ValueError`` for a naive datetime, an empty or
    reversed range, or a resolution Scout does not serve. The list holds every chunk: to read a
    window of any length in constant memory, use ``ChunkPlan`` (``plan_series``).
    """
    return list(ChunkPlan(start, end, resolution))


def plan_series(
    start: datetime, end: datetime, resolution: timedelta | str | None, *, now: datetime
) -> ChunkPlan:
    """The plan of a series read by a client whose clock says ``now``: ``plan_range``'s chunks,
    made on demand, for a window Scout can hold data for (``require_reachable``: not before
    Scout existed, not more than a day after ``now``). Every argument is checked here, before
    any request; the plan's memory does not grow with the window."""
    start_utc, end_utc = _validate(start, end)
    require_reachable(start_utc, end_utc, now=now)
    return ChunkPlan(start_utc, end_utc, resolution)


class ChunkPlan(Sequence[Chunk]):
    """``plan_range(start, end, resolution)`` as a sequence whose chunks are made when asked for:
    ``len``, indexing and iteration in constant memory, however long the window.

    >>> plan = ChunkPlan(t0, t0 + timedelta(days=365), "1m")
    >>> len(plan), plan.step, plan[0] == plan_range(t0, t0 + timedelta(hours=1), "1m")[0]
    (8760, datetime.timedelta(seconds=60), True)
    """

    def __init__(
        self, start: datetime, end: datetime, resolution: timedelta | str | None = None
    ) -> None:
        start_utc, end_utc = _validate(start, end)
        self._start, self._end = start_utc, end_utc
        try:
            self._step = _target_step_utc(start_utc, end_utc, resolution)
            self._band = band_for_step(self._step)
            self._first = floor_to_grid(start_utc, self._step)
            steps_total = (ceil_to_grid(end_utc, self._step) - self._first) // self._step
            per_request = self._band.upper // self._step
            self._count = -(-steps_total // per_request)  # the fewest requests the band allows
            self._base, self._extra = divmod(steps_total, self._count)
            # The chunks nearest the ends of the dates Python can count, made now: a window out
            # of range fails here, before any request, not halfway through the fetching.
            self._make(0)
            self._make(self._count - 1)
        except OverflowError:
            raise _out_of_range(start_utc, end_utc) from None

    @property
    def step(self) -> timedelta:
        """The one step every chunk is answered at (``target_step``)."""
        return self._step

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> Chunk: ...

    @overload
    def __getitem__(self, index: slice) -> list[Chunk]: ...

    def __getitem__(self, index: int | slice) -> Chunk | list[Chunk]:
        if isinstance(index, slice):
            return [self._chunk(i) for i in range(*index.indices(self._count))]
        position = operator.index(index)
        if position < 0:
            position += self._count
        if not 0 <= position < self._count:
            raise IndexError(f"chunk {index} of a plan of {self._count}")
        return self._chunk(position)

    def __iter__(self) -> Iterator[Chunk]:
        for position in range(self._count):
            yield self._chunk(position)

    def __repr__(self) -> str:
        return f"<ChunkPlan of {self._count} chunks at {format_step(self._step)}>"

    def _chunk(self, index: int) -> Chunk:
        try:
            return self._make(index)
        except OverflowError:
            raise _out_of_range(self._start, self._end) from None

    def _make(self, index: int) -> Chunk:
        step, band = self._step, self._band
        # The earlier chunks get the extra step when the steps do not divide evenly.
        owned_start = self._first + (index * self._base + min(index, self._extra)) * step
        owned_end = owned_start + (self._base + (1 if index < self._extra else 0)) * step
        request_end = self._end if index == self._count - 1 else owned_end
        request_start = _request_start(owned_start, request_end, band)
        length = request_end - request_start
        sent = _sent_length(request_start, request_end)
        if not (band.contains(length) and band.contains(sent) and length <= MAX_WINDOW):
            raise AssertionError(  # a planner bug, not bad input: fail before asking the server
                f"planned request {request_start}..{request_end} is outside the {step} band"
            )
        return Chunk(request_start, request_end, owned_start, owned_end, step)


def _out_of_range(start_utc: datetime, end_utc: datetime) -> ArgumentError:
    return ArgumentError(
        f"the window {display_time(start_utc)} .. {display_time(end_utc)} reaches outside the "
        "dates Python can represent once aligned to its step; pass a window in this era"
    )


# -- self-healing steps ------------------------------------------------------------------------
# Scout documents a band's upper edge as inclusive (60 min -> 1 min); nobody has recorded what
# the live API does at exactly an edge (API notes, quirk 16). A plan sends such windows (the
# fewest requests a band allows); if Scout answers one at the next step, the reader learns that
# the edge is exclusive (``Core.exclusive_edges``, for the client's life) and fetches the chunk
# as ``split_at_edge`` requests instead. The plan itself never changes: checkpoints keep their
# chunk boundaries, whatever a client has learned.


def at_upper_edge(chunk: Chunk) -> bool:
    """Whether ``chunk``'s request is exactly its band's upper edge, short of 14 days (a window
    of 14 days is answered at 2 h either way)."""
    band = band_for_step(chunk.step)
    return band.upper < MAX_WINDOW and _sent_length(chunk.start, chunk.end) == band.upper


def split_at_edge(chunk: Chunk) -> list[Chunk]:
    """Requests strictly inside ``chunk``'s band that own, together, what ``chunk`` owns.

    For a chunk whose request sits exactly on its band's upper edge (``at_upper_edge``) when
    Scout takes that edge as exclusive: the owned buckets are split evenly (the earlier requests
    get the extra step), each request widened backwards into the band as a plan's are; the last
    ends where ``chunk`` ends. Raises ``AssertionError`` if that cannot be done (a planner bug).
    """
    step, band = chunk.step, band_for_step(chunk.step)
    total = (chunk.owned_end - chunk.owned_start) // step
    per_request = band.upper // step - 1
    count = -(-total // per_request)
    base, extra = divmod(total, count)
    pieces: list[Chunk] = []
    owned_start = chunk.owned_start
    for index in range(count):
        owned_end = owned_start + (base + (1 if index < extra else 0)) * step
        request_end = chunk.end if index == count - 1 else owned_end
        request_start = _request_start(owned_start, request_end, band)
        sent = _sent_length(request_start, request_end)
        if not (band.contains(sent) and sent < band.upper):
            raise AssertionError(
                f"split request {request_start}..{request_end} is outside the {step} band"
            )
        pieces.append(Chunk(request_start, request_end, owned_start, owned_end, step))
        owned_start = owned_end
    return pieces
