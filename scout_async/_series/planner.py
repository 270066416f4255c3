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

from datetime import datetime, timedelta

import attrs

from .._exceptions import ArgumentError
from .._time import display_time
from .instants import sent_window
from .steps import (
    MAX_WINDOW,
    Band,
    band_for_step,
    ceil_to_grid,
    floor_to_grid,
    parse_step,
    step_for_window,
)

__all__ = ["PLANNER_VERSION", "Chunk", "plan_range", "target_step"]

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
    reversed range, or a resolution Scout does not serve.
    """
    start_utc, end_utc = _validate(start, end)
    try:
        return _plan(start_utc, end_utc, resolution)
    except OverflowError:
        raise ArgumentError(
            f"the window {display_time(start_utc)} .. {display_time(end_utc)} reaches outside the "
            "dates Python can represent once aligned to its step; pass a window in this era"
        ) from None


def _plan(
    start_utc: datetime, end_utc: datetime, resolution: timedelta | str | None
) -> list[Chunk]:
    step = _target_step_utc(start_utc, end_utc, resolution)
    band = band_for_step(step)

    first = floor_to_grid(start_utc, step)
    steps_total = (ceil_to_grid(end_utc, step) - first) // step
    per_request = band.upper // step
    count = -(-steps_total // per_request)  # the fewest requests the band allows
    base, extra = divmod(steps_total, count)

    chunks: list[Chunk] = []
    owned_start = first
    for index in range(count):
        owned_end = owned_start + (base + (1 if index < extra else 0)) * step
        last = index == count - 1
        request_end = end_utc if last else owned_end
        request_start = _request_start(owned_start, request_end, band)
        length = request_end - request_start
        sent = _sent_length(request_start, request_end)
        if not (band.contains(length) and band.contains(sent) and length <= MAX_WINDOW):
            raise AssertionError(  # a planner bug, not bad input: fail before asking the server
                f"planned request {request_start}..{request_end} is outside the {step} band"
            )
        chunks.append(Chunk(request_start, request_end, owned_start, owned_end, step))
        owned_start = owned_end
    return chunks
