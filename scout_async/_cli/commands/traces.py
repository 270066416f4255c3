"""``traces`` and ``trace``: an endpoint's (or a job's) sampled traces, and one trace as its span
tree."""

from __future__ import annotations

from datetime import datetime

import click
from rich.text import Text
from rich.tree import Tree

from ..._client import ScoutClient
from ..._exceptions import ArgumentError
from ...types._models import JobTrace, Span, Trace, TraceSummary
from ..context import Settings, pass_settings, run_with_client
from ..options import clamp_option, format_option, lookback_refused, window, window_options
from ..render import Column, facts_table, listing_console, number, print_json, print_table, when
from ..times import TimeSpec

__all__ = ["trace", "traces"]

_DESCRIPTION = 100  # characters of a span's description (its SQL, URL, ...) shown in the tree

TRACE_COLUMNS = (
    Column("id", lambda t: str(t.id), no_wrap=True),
    Column("time", lambda t: when(t.time), no_wrap=True),
    Column("duration ms", lambda t: number(t.total_call_time), justify="right"),
    Column("mem MB", lambda t: number(t.mem_delta), justify="right"),
    Column("uri", lambda t: t.uri or "-"),
)

JOB_TRACE_COLUMNS = (
    Column("id", lambda t: str(t.id), no_wrap=True),
    Column("time", lambda t: when(t.time), no_wrap=True),
    Column("duration ms", lambda t: number(t.duration), justify="right"),
    Column("queue", lambda t: t.queue or "-"),
    Column("job", lambda t: t.name or t.metric_name or "-"),
)


async def _list(
    client: ScoutClient,
    app_id: int,
    endpoint_id: str | None,
    job_id: str | None,
    start: datetime,
    end: datetime,
    clamp: bool,
) -> list[TraceSummary] | list[JobTrace]:
    if job_id is not None:
        return await client.traces.list(app_id, job_id=job_id, start=start, end=end, clamp=clamp)
    assert endpoint_id is not None
    return await client.traces.list(
        app_id, endpoint_id=endpoint_id, start=start, end=end, clamp=clamp
    )


@click.command()
@click.argument("app_id", metavar="APP", type=click.IntRange(min=1))
@click.argument("endpoint_id", metavar="[ENDPOINT_ID]", required=False)
@click.option(
    "--job",
    "job_id",
    metavar="JOB_ID",
    default=None,
    help="The traces of one background job of APP instead of an endpoint's: its id from `jobs`.",
)
@window_options("1d", "traces sampled from then on (Scout keeps 7 days)")
@clamp_option("7 days")
@format_option("table", "json")
@pass_settings
def traces(
    settings: Settings,
    app_id: int,
    endpoint_id: str | None,
    job_id: str | None,
    start: TimeSpec,
    end: TimeSpec,
    clamp: bool,
    fmt: str,
) -> None:
    """List the sampled traces of an endpoint of APP, or of one of its background jobs with
    --job, newest first.

    ENDPOINT_ID is the id column of `endpoints`; JOB_ID, with --job instead, the id column of
    `jobs`. Scout keeps traces for 7 days and sends at most 100 per request; show one trace of
    an endpoint with `trace APP TRACE_ID`.

    \b
    scout-async traces 101 YXBpL21ldHJpY3Mvc2hvdw==
    scout-async traces 101 YXBpL21ldHJpY3Mvc2hvdw== --from 7d --clamp --format json
    scout-async traces 101 --job ZGVmYXVsdC9NYWlsZXJKb2I=
    """
    if endpoint_id is not None and job_id is not None:
        raise click.UsageError("ENDPOINT_ID and --job exclude each other: pass one of them")
    if endpoint_id is None and job_id is None:
        raise click.UsageError(
            "Missing argument 'ENDPOINT_ID' (or --job JOB_ID for the traces of a job)"
        )
    start_at, end_at = window(start, end, settings.now())
    try:
        found = run_with_client(
            settings,
            lambda client: _list(client, app_id, endpoint_id, job_id, start_at, end_at, clamp),
        )
    except ArgumentError as exc:
        raise lookback_refused(exc) from None
    if fmt == "json":
        print_json(found)
    elif job_id is not None:
        print_table(found, JOB_TRACE_COLUMNS, empty="no traces of this job in this window")
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
    facts = facts_table(
        [
            ("trace", str(found.id)),
            ("time", when(found.time)),
            ("endpoint", found.metric_name or "-"),
            ("uri", found.uri or "-"),
            ("duration", f"{number(found.total_call_time)} ms"),
            ("memory", f"{number(found.mem_delta)} MB"),
            ("host", found.hostname or "-"),
            ("git sha", found.git_sha or "-"),
        ]
    )
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
