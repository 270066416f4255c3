"""``usage``: the organization's usage in the current billing period."""

from __future__ import annotations

import click
from rich.console import RenderableType

from ...types._models import Usage
from ..context import Settings, pass_settings, run_with_client
from ..options import format_option
from ..render import facts_table, listing_console, print_json, when

__all__ = ["usage"]


def _of(used: int | None, limit: int | None, unit: str = "") -> str:
    if used is None:
        return "-"
    text = f"{used:,}{unit}"
    if limit:
        text += f" of {limit:,}{unit} ({used / limit:.0%})"
    return text


def _gigabytes(count: int | None) -> int | None:
    return None if count is None else round(count / 1e9)


def _print_usage(found: Usage) -> None:
    rows: list[tuple[str, RenderableType]] = []
    period = found.billing_period
    if period is not None:
        rows.append(("billing period", f"{when(period.start)} → {when(period.end)}"))
    rows.append(("pricing", found.pricing_style or "-"))
    if found.apm is not None:
        rows.append(("APM transactions", _of(found.apm.total_transactions, found.apm.limit)))
    if found.nodes is not None:
        count = found.nodes.active_count
        rows.append(("active nodes", "-" if count is None else f"{count:,}"))
    if found.errors is not None:
        rows.append(("errors", _of(found.errors.count, found.errors.limit)))
    if found.logs is not None:
        used, limit = _gigabytes(found.logs.bytes_used), _gigabytes(found.logs.limit_bytes)
        rows.append(("logs", _of(used, limit, " GB")))
    listing_console().print(facts_table(rows))


@click.command()
@format_option("table", "json")
@pass_settings
def usage(settings: Settings, fmt: str) -> None:
    """Show the organization's usage in the current billing period: APM transactions, nodes,
    errors and log volume, against the plan's limits.

    \b
    scout-async usage
    scout-async usage --format json
    """
    found = run_with_client(settings, lambda client: client.usage.get())
    if fmt == "json":
        print_json(found)
    else:
        _print_usage(found)
