"""What a backfill reports: progress snapshots while it runs, a result per series at the end."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

import attrs

from .._exceptions import ScoutError

__all__ = ["BackfillResult", "Progress", "SeriesResult", "SeriesStatus"]

SeriesStatus = Literal["ok", "failed", "skipped"]


@attrs.frozen
class Progress:
    """A snapshot of a running backfill, handed to ``progress`` after each chunk written.

    Chunk and series counts include what a resumed job found already done; ``points_written``,
    ``retries``, ``rate_limited`` (429 answers) and ``rate_limit_wait`` (seconds tasks waited
    out a 429 pause) count this run only. An app whose metrics could not be listed counts as one
    failed series (metric ``"*"``) and adds no chunks.

    >>> def show(p: Progress) -> None:
    ...     print(f"{p.chunks_done}/{p.chunks_total} chunks, {p.points_written} points")
    >>> await client.backfill(..., progress=show)
    """

    chunks_done: int
    chunks_total: int
    points_written: int
    series_done: int
    series_failed: int
    series_total: int
    retries: int
    rate_limited: int
    rate_limit_wait: float
    elapsed: float

    @property
    def fraction(self) -> float:
        """``chunks_done / chunks_total`` (1.0 for an empty job)."""
        return self.chunks_done / self.chunks_total if self.chunks_total else 1.0


@attrs.frozen
class SeriesResult:
    """How one series of a backfill ended.

    ``status``: ``"ok"`` (complete, perhaps already by an earlier run), ``"failed"`` (``error``
    says why) or ``"skipped"`` (the job stopped before the series was done). ``points`` and
    ``chunks`` count what this run wrote. ``resume_from`` (unless ``"ok"``): the series is in the
    output up to there; a rerun with the checkpoint continues from it.

    ``metric == "*"`` stands for every metric of ``app_id`` when ``metrics="all"`` could not list
    them: always ``"failed"``, ``error`` is the listing's error, nothing was written. A rerun with
    the checkpoint lists the app again and backfills its series from the start.

    >>> [s for s in result.series if s.status != "ok"]
    """

    app_id: int
    metric: str
    status: SeriesStatus
    points: int
    chunks: int
    error: ScoutError | None = None
    resume_from: datetime | None = None


@attrs.frozen
class BackfillResult:
    """The outcome of ``ScoutClient.backfill``: a ``SeriesResult`` per series, and totals.

    ``stopped`` is set when the job gave up early (the server looked dead, or refused the key):
    the remaining series are ``"skipped"`` and the checkpoint is valid for a later rerun. An app
    whose metrics could not be listed is in ``series`` (and ``failed``) with metric ``"*"``.

    ``unavailable_before`` is set when the window starts before Scout's metric retention (about
    30 days before the client's clock): no series has data in ``[start, unavailable_before)``,
    and the rest of the result is about what Scout still holds.

    >>> result = await client.backfill(...)
    >>> result.ok, result.points, [(s.app_id, s.metric, s.error) for s in result.failed]
    """

    series: tuple[SeriesResult, ...]
    start: datetime
    end: datetime
    step: timedelta
    stopped: str | None = None
    unavailable_before: datetime | None = None

    @property
    def ok(self) -> bool:
        """Every series is complete."""
        return all(s.status == "ok" for s in self.series)

    @property
    def failed(self) -> tuple[SeriesResult, ...]:
        """The series that are not complete (failed or skipped)."""
        return tuple(s for s in self.series if s.status != "ok")

    @property
    def points(self) -> int:
        """Points written by this run."""
        return sum(s.points for s in self.series)

    @property
    def chunks(self) -> int:
        """Chunks written by this run."""
        return sum(s.chunks for s in self.series)
