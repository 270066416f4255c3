"""Error groups of an app, their latest error and their individual errors.

Lists hold at most 100 (API notes, endpoints table; scout-mcp-local: "the most recent 100
problems"). The listing's ``errors_count`` is the group's count; the detail's is 0 for every
group, as the live API sends it (Scout's Go CLI CHANGELOG: "the API reports 0, which it does for
every error group even when `errors list` shows a real count").
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import attrs

from ._catalog import AppModel, formatted_method_name
from ._noise import mix, unit
from ._rules import format_time

__all__ = ["MAX_ERRORS", "ErrorGroupRef", "error_group_detail", "error_groups", "errors_of"]

MAX_ERRORS = 100
_ID_BASE = 10_000  # group ids are app_id * 10_000 + n: unique across the account
_TAG = 0xE6

# (exception class, message, where it happens: an endpoint name or a job's full name)
_POOL: tuple[tuple[str, str, str], ...] = (
    ("ActiveRecord::RecordNotFound", "Couldn't find User with 'id'=48213", "users/show"),
    ("Stripe::CardError", "Your card was declined.", "checkout/payments/create"),
    ("Net::ReadTimeout", "Net::ReadTimeout with #<TCPSocket:(closed)>", "webhooks/stripe/create"),
    ("NoMethodError", "undefined method `name' for nil:NilClass", "orders/show"),
    (
        "ActionController::ParameterMissing",
        "param is missing or the value is empty: order",
        "orders/create",
    ),
    ("Redis::TimeoutError", "Connection timed out", "search/index"),
    ("JSON::ParserError", "unexpected token at ''", "api/metrics/show"),
    (
        "PG::QueryCanceled",
        "ERROR:  canceling statement due to statement timeout",
        "admin/reports/index",
    ),
    ("Net::SMTPServerBusy", "421 4.7.0 Try again later", "default/MailerJob"),
    # On the endpoints whose ids hold "+", "/" and "=": the `endpoint` filter must carry them.
    ("ActionView::Template::Error", "undefined local variable or method `page'", "docs/~~~/show"),
    ("Timeout::Error", "execution expired", "reports/export?>"),
)
_STATUSES = ("open", "open", "open", "resolved", "ignored")


@attrs.frozen
class ErrorGroupRef:
    app_id: int
    seed: int
    number: int
    now: datetime

    @property
    def id(self) -> int:
        return self.app_id * _ID_BASE + self.number

    def draw(self, tag: int) -> float:
        return unit(self.seed, self.app_id, self.number, tag, _TAG)

    @property
    def last_error_at(self) -> datetime:
        # Snapped to the hour so the value stays put while a real clock runs.
        hours = int(self.draw(1) * 24 * 25)
        return self.now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours)

    @property
    def first_error_at(self) -> datetime:
        return self.last_error_at - timedelta(hours=1 + int(self.draw(2) * 24 * 20))

    @property
    def errors_count(self) -> int:
        return 1 + int(self.draw(3) ** 3 * 5_000)

    def pool_entry(self) -> tuple[str, str, str]:
        return _POOL[self.number - 1]


def _groups(app: AppModel, now: datetime) -> list[ErrorGroupRef]:
    names = {e.name for e in app.endpoints} | {j.full_name for j in app.jobs}
    return [
        ErrorGroupRef(app.id, app.source.seed, n, now)
        for n, (_, _, where) in enumerate(_POOL, start=1)
        if where in names
    ]


def error_groups(
    app: AppModel, start: datetime, end: datetime, now: datetime, where: str | None
) -> list[ErrorGroupRef]:
    """Groups with errors in ``[start, end]`` (optionally only those of ``where``), at most 100.

    Assumed: most recent error first, and a group counts when its errors overlap the window.
    """
    found = [
        g
        for g in _groups(app, now)
        if g.first_error_at <= end
        and g.last_error_at >= start
        and (where is None or g.pool_entry()[2] == where)
    ]
    found.sort(key=lambda g: g.last_error_at, reverse=True)
    return found[:MAX_ERRORS]


def find_group(app: AppModel, group_id: int, now: datetime) -> ErrorGroupRef | None:
    return next((g for g in _groups(app, now) if g.id == group_id), None)


def _components(where: str) -> list[str]:
    if "/" in where and where.split("/")[0] in ("default", "mailers", "critical", "low"):
        return [where.split("/", 1)[1], "perform"]
    controller, _, action = formatted_method_name(where).partition("#")
    return [controller, action]


def _uri(where: str) -> str | None:
    return None if where.endswith("Job") else "/" + where.rsplit("/", 1)[0]


def error_group_summary(group: ErrorGroupRef) -> dict[str, Any]:
    name, message, where = group.pool_entry()
    return {
        "id": group.id,
        "name": name,
        "message": message,
        "status": _STATUSES[mix(group.seed, group.id, _TAG) % len(_STATUSES)],
        "errors_count": group.errors_count,
        "last_error_at": format_time(group.last_error_at),
        "request_components": _components(where),
        "request_uri": _uri(where),
        "app_environment": "production",
    }


def _error(group: ErrorGroupRef, k: int, created: datetime) -> dict[str, Any]:
    """The k-th most recent error of the group (k = 0 is the latest)."""
    name, message, where = group.pool_entry()
    component, action = _components(where)
    if where.endswith("Job"):
        location = f"app/jobs/{_snake(component)}.rb:{12 + k % 30}:in `perform'"
    else:
        file = _snake(component)
        location = f"app/controllers/{file}.rb:{12 + k % 30}:in `{action}'"
    return {
        "id": group.id * 100_000 + group.errors_count - k,
        "name": name,
        "message": message,
        "created_at": format_time(created),
        "request_params": {"id": str(1000 + mix(group.seed, group.id, k, 1) % 90_000)},
        "request_uri": _uri(where),
        "location": location,
        "request_session": {"user_id": 1 + mix(group.seed, group.id, k, 2) % 50_000},
        "trace": [
            location,
            "actionpack (7.1.3) lib/action_controller/metal/implicit_render.rb:6:in `send_action'",
            "actionpack (7.1.3) lib/abstract_controller/base.rb:224:in `process_action'",
            "rack (3.0.9) lib/rack/sendfile.rb:114:in `call'",
        ],
        "context": {"exception": name, "host": f"web-{1 + k % 4}.prod.internal"},
    }


def _snake(name: str) -> str:
    """``Checkout::PaymentsController`` -> ``checkout/payments_controller``."""
    return "/".join(
        "".join("_" + c.lower() if c.isupper() else c for c in part).lstrip("_")
        for part in name.split("::")
    )


def error_group_detail(group: ErrorGroupRef) -> dict[str, Any]:
    """The group with its latest error; ``errors_count`` is 0, as on the live API."""
    return {
        **error_group_summary(group),
        "errors_count": 0,
        "latest_error": _error(group, 0, group.last_error_at),
    }


def errors_of(group: ErrorGroupRef) -> list[dict[str, Any]]:
    """The group's errors, newest first, at most 100."""
    errors = []
    created = group.last_error_at
    for k in range(min(group.errors_count, MAX_ERRORS)):
        errors.append(_error(group, k, created))
        created -= timedelta(minutes=1 + mix(group.seed, group.id, k) % 240)
    return errors
