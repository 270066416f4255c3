"""``traces`` and ``trace``: an endpoint's sampled traces, and one trace as its span tree."""

from __future__ import annotations

import click
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from .._models_api import Span, Trace
from ._context import Settings, pass_settings, run_with_client
from ._options import clamp_option, format_option, lookback_refused, window, window_options
from ._records import Column, listing_console, number, print_json, print_table, when
from ._times import TimeSpec

__all__ = ["trace", "traces"]

_DESCRIPTION = 100  # characters of a span's description (its SQL, URL, ...) shown in the tree

TRACE_COLUMNS = (
    Column("id", lambda t: str(t.id), no_wrap=True),
    Column("time", lambda t: when(t.time), no_wrap=True),
    Column("duration ms", lambda t: number(t.total_call_time), justify="right"),
    Column("mem MB", lambda t: number(t.mem_delta), justify="right"),
    Column("uri", lambda t: t.uri or "-"),
)


@click.command()
@click.argument("app_id", metavar="APP", type=click.IntRange(min=1))
@click.argument("endpoint_id", metavar="ENDPOINT_ID")
@window_options("1d", "traces sampled from then on (Scout keeps 7 days)")
@clamp_option("7 days")
@format_option("table", "json")
@pass_settings
def traces(
    settings: Settings,
    app_id: int,
    endpoint_id: str,
    start: TimeSpec,
    end: TimeSpec,
    clamp: bool,
    fmt: str,
) -> None:
    """List the sampled traces of an endpoint of APP, newest first.

    ENDPOINT_ID is the id column of `endpoints`. Scout keeps traces for 7 days and sends at
    most 100 per request; show one with `trace APP TRACE_ID`.

    \b
    scout-async traces 101 YXBpL21ldHJpY3Mvc2hvdw==
    scout-async traces 101 YXBpL21ldHJpY3Mvc2hvdw== --from 7d --clamp --format json
    """
    start_at, end_at = window(start, end)
    try:
        found = run_with_client(
            settings,
            lambda client: client.traces.for_endpoint(
                app_id, endpoint_id, start=start_at, end=end_at, clamp=clamp
            ),
        )
    except ValueError as exc:
        raise lookback_refused(exc) from None
    if fmt == "json":
        print_json(found)
    else:
        print_table(found, TRACE_COLUMNS, empty="no traces of this endpoint in this window")


def _label(span: Span) -> Text:
    label = Text(span.operation or span.type or span.id, style="bold")
    label.append(f"  {number(span.duration_ms)} ms")
    if span.exclusive_duration_ms is not None and span.children:
        label.append(f" (self {number(span.exclusive_duration_ms)} ms)", style="dim")
    if span.description:
        text = " ".join(span.description.split())
        if len(text) > _DESCRIPTION:
            text = text[: _DESCRIPTION - 1] + "…"
        label.append(f"  {text}", style="cyan")
    return label


def _grow(node: Tree, span: Span, seen: set[int]) -> None:
    branch = node.add(_label(span))
    for child in span.children:
        if id(child) not in seen:  # Trace breaks cycles; this keeps a bad tree finite anyway
            seen.add(id(child))
            _grow(branch, child, seen)


def _print_trace(found: Trace) -> None:
    console = listing_console()
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("trace", str(found.id))
    facts.add_row("time", when(found.time))
    facts.add_row("endpoint", found.metric_name or "-")
    facts.add_row("uri", found.uri or "-")
    facts.add_row("duration", f"{number(found.total_call_time)} ms")
    facts.add_row("memory", f"{number(found.mem_delta)} MB")
    facts.add_row("host", found.hostname or "-")
    facts.add_row("git sha", found.git_sha or "-")
    console.print(facts)
    tree = Tree(Text(f"{len(found.spans)} spans", style="dim"), guide_style="dim")
    seen = {id(span) for span in found.root_spans}
    for root in found.root_spans:
        _grow(tree, root, seen)
    console.print(tree)


@click.command()
@click.argument("app_id", metavar="APP", type=click.IntRange(min=1))
@click.argument("trace_id", metavar="TRACE_ID", type=click.IntRange(min=1))
@format_option("tree", "json")
@pass_settings
def trace(settings: Settings, app_id: int, trace_id: int, fmt: str) -> None:
    """Show one trace of APP: its facts, then its spans as a tree, each indented under its
    parent with its duration (and own time) and its SQL, URL, ....

    TRACE_ID is the id column of `traces`.

    \b
    scout-async trace 101 7662560768
    scout-async trace 101 7662560768 --format json | jq '.spans | length'
    """
    found = run_with_client(settings, lambda client: client.traces.get(app_id, trace_id))
    if fmt == "json":
        print_json(found)
    else:
        _print_trace(found)
