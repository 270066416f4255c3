"""``client.errors``: an app's error groups, one group with its latest error, and its errors."""

from __future__ import annotations

import builtins
from datetime import datetime

from .._core import Core
from ..types._models import ErrorGroup, ErrorOccurrence, Listing
from .checks import check_flag, check_id, check_string_id
from .shape import field, parse, parse_list
from .windows import ERROR_LOOKBACK, LIST_CAP, list_in_windows, lookback_window

__all__ = ["ErrorGroups"]


class ErrorGroups:
    def __init__(self, core: Core) -> None:
        self._core = core

    async def list(
        self,
        app_id: int,
        *,
        start: datetime,
        end: datetime,
        endpoint: str | None = None,
        clamp: bool = False,
    ) -> Listing[ErrorGroup]:
        """The error groups with errors in ``[start, end)``, most recent error first.

        ``endpoint`` narrows them to one endpoint or job: pass ``Endpoint.id`` or ``Job.id``.
        Scout serves the last 30 days only: an older ``start`` is a ``ValueError`` before any
        request, or with ``clamp=True`` is moved up to the earliest allowed instant. A window
        over 14 days is fetched as several requests, merged without duplicates (a group seen in
        two keeps the newer figures). Scout returns at most 100 groups per request: ``capped`` on
        the result says it did (there may be more: narrow the window).

        >>> groups = await client.errors.list(101, start=now - timedelta(days=30), end=now,
        ...                                     clamp=True)
        >>> [(g.name, g.errors_count) for g in groups], groups.capped
        """
        check_id(app_id)
        params = {} if endpoint is None else {"endpoint": check_string_id(endpoint, "endpoint")}
        start_utc, end_utc = lookback_window(
            start,
            end,
            now=self._core.clock.now(),
            lookback=ERROR_LOOKBACK,
            what="error groups",
            clamp=check_flag(clamp, "clamp"),
        )
        return await list_in_windows(
            self._core,
            f"/apps/{app_id}/error_groups",
            "error_groups",
            ErrorGroup,
            start_utc,
            end_utc,
            key=lambda group: group.id,
            time=lambda group: group.last_error_at,
            params=params,
        )

    async def get(self, app_id: int, error_id: int) -> ErrorGroup:
        """One error group, with ``latest_error`` set.

        Its ``errors_count`` is ``None``: Scout's detail answer says 0 for every group (take the
        figure from ``errors.list``).

        >>> group = await client.errors.get(101, 4321)
        >>> group.latest_error.location
        """
        path = f"/apps/{check_id(app_id)}/error_groups/{check_id(error_id, 'error_id')}"
        results = await self._core.get(path)
        return parse(field(results, "error_group", dict, path), ErrorGroup, path)

    async def list_errors(self, app_id: int, error_id: int) -> Listing[ErrorOccurrence]:
        """The group's most recent errors (at most 100: ``capped`` says Scout stopped there), as
        Scout orders them.

        >>> for error in await client.errors.list_errors(101, 4321):
        ...     print(error.created_at, error.request_uri)
        """
        path = f"/apps/{check_id(app_id)}/error_groups/{check_id(error_id, 'error_id')}/errors"
        results = await self._core.get(path)
        errors = parse_list(field(results, "errors", builtins.list, path), ErrorOccurrence, path)
        return Listing(errors, capped=len(errors) >= LIST_CAP)
