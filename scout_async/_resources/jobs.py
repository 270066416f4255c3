"""``client.jobs``: an app's background jobs (their series are in ``client.metrics`` with
``job_id=``, their traces in ``client.traces`` with ``job_id=``)."""

from __future__ import annotations

import builtins
from datetime import datetime

from .._core import Core
from .._time import format_time
from ..types._models import Job
from .checks import check_id
from .shape import parse_list
from .windows import short_window

__all__ = ["Jobs"]


class Jobs:
    def __init__(self, core: Core) -> None:
        self._core = core

    async def list(self, app_id: int, *, start: datetime, end: datetime) -> builtins.list[Job]:
        """Every background job of the app with its figures over ``[start, end)`` (at most 14
        days).

        >>> jobs = await client.jobs.list(101, start=t0, end=t1)
        >>> [(j.full_name, j.id, j.execution_time) for j in jobs]
        """
        check_id(app_id)
        start_utc, end_utc = short_window(start, end, "jobs.list")
        path = f"/apps/{app_id}/jobs"
        params = {"from": format_time(start_utc), "to": format_time(end_utc)}
        return parse_list(await self._core.get(path, params), Job, path)
