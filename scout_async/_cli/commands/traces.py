"""``traces`` and ``trace``: an endpoint's (or a job's) sampled traces, and one trace as its span
tree."""

from __future__ import annotations

from datetime import datetime, timedelta

import click
from rich.text import Text
from rich.tree import Tree

from ..._client import ScoutClient
from ..._exceptions import ArgumentError
from ...types._models import JobTrace, Span, Trace, TraceSummary
from ..context import Settings, choose_format, pass_settings, run_with_client
from ..options import (
    TIME,
    app_and,
    app_option,
    clamp_option,
    endpoint_ref,
    format_option,
    job_ref,
    limit_option,
    listing_limit,
    lookback_refused,
    lookback_window,
    resolve_app,
    to_option,
)
from ..render import (
    Column,
    facts_table,
    listing_console,
    number,
    print_json,
    print_listing,
    table_time,
    when,
)
from ..times import TIME_HELP, TimeSpec
from ..units import JOB_TRACE_UNITS, TRACE_UNITS

__all__ = ["trace", "traces"]

_DESCRIPTION = 100  # characters of a span's description (its SQL, URL, ...) shown in the tree

LOOKBACK = timedelta(days=7)

TRACE_COLUMNS = (
    Column("id", lambda t: str(t.id), kind="number"),
    Column("time (UTC)", lambda t: table_time(t.time), kind="time"),
    Column("duration ms", lambda t: number(t.total_call_time), justify="right"),
    Column("mem MB", lambda t: number(t.mem_delta), justify="right"),
    Column("uri", lambda t: t.uri or "-", kind="text"),
)

JOB_TRACE_COLUMNS = (
    Column("id", lambda t: str(t.id), kind="number"),
    Column("time (UTC)", lambda t: table_time(t.time), kind="time"),
    Column("duration ms", lambda t: number(t.duration), justify="right"),
    Column("queue", lambda t: t.queue or "-", kind="text"),
    Column("job", lambda t: t.name or t.metric_name or "-", kind="text"),
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
@click.argument("first", metavar="[APP]", required=False)
@click.argument("second", metavar="[ENDPOINT_ID]", required=False)
@app_option
@click.option(
    "--job",
    "job_id",
    metavar="JOB_ID",
    default=None,
    help="The traces of one background job of APP instead of an endpoint's: its id from `jobs` "
    "(or its queue/name).",
)
@click.option(
    "--from",
    "start",
    type=TIME,
    default=None,
    help="Window start: traces sampled from then on. Scout keeps traces 7 days; a relative "
    f"--from up to 7d is clamped to that.  [default: 7d] {TIME_HELP}",
)
@to_option
@clamp_option("7 days")
@format_option("table", "json")
@limit_option
@pass_settings
def traces(
    settings: Settings,
    first: str | None,
    second: str | None,
    job_id: str | None,
    start: TimeSpec | None,
    end: TimeSpec,
    clamp: bool,
    fmt: str | None,
) -> None:
    """List the sampled traces of an endpoint of APP, or of one of its background jobs with
    --job, newest first.

    ENDPOINT_ID is the id column of `endpoints` (or the endpoint's name); JOB_ID, with --job
    instead, the id column of `jobs` (or queue/name). Scout keeps traces for 7 days and sends at
    most 100 per request; show one trace of an endpoint with `trace APP TRACE_ID`.

    \b
    scout-async traces 101 YXBpL21ldHJpY3Mvc2hvdw==
    scout-async traces 101 YXBpL21ldHJpY3Mvc2hvdw== --from 2d --json
    scout-async traces 101 --job ZGVmYXVsdC9NYWlsZXJKb2I=
    """
    app_id: int | None
    endpoint_id: str | None
    if second is not None:
        app_id, endpoint_id = app_and(settings, first, second, "ENDPOINT_ID", numeric=False)
    elif first is not None and first.isdigit():
        app_id, endpoint_id = int(first), None
    else:
        app_id, endpoint_id = None, first
    if endpoint_id is not None and job_id is not None:
        raise click.UsageError("ENDPOINT_ID and --job exclude each other: pass one of them")
    if endpoint_id is None and job_id is None:
        raise click.UsageError(
            "Missing argument 'ENDPOINT_ID' (or --job JOB_ID for the traces of a job)"
        )
    app = resolve_app(settings, app_id)
    start_at, end_at, clamp = lookback_window(
        settings, start, end, limit=LOOKBACK, limit_text="7 days", what="traces", clamp=clamp
    )
    endpoint = None if endpoint_id is None else endpoint_ref(endpoint_id)
    job = None if job_id is None else job_ref(job_id)
    try:
        found = run_with_client(
            settings,
            lambda client: _list(client, app, endpoint, job, start_at, end_at, clamp),
        )
    except ArgumentError as exc:
        raise lookback_refused(exc) from None
    chosen = choose_format(fmt, settings, "table")
    if job is not None:
        print_listing(
            found,
            JOB_TRACE_COLUMNS,
            fmt=chosen,
            empty="no traces of this job in this window",
            limit=listing_limit(settings),
            units=JOB_TRACE_UNITS,
        )
    else:
        print_listing(
            found,
            TRACE_COLUMNS,
            fmt=chosen,
            empty="no traces of this endpoint in this window",
            limit=listing_limit(settings),
            units=TRACE_UNITS,
        )


def _ms(seconds: float | None) -> str:
    """A span's duration (seconds, as the library reads it) in milliseconds."""
    return number(None if seconds is None else seconds * 1000)


def _label(span: Span) -> Text:
    label = Text(span.operation or span.type or span.id, style="bold")
    label.append(f"  {_ms(span.duration_s)} ms")
    if span.exclusive_duration_s is not None and span.children:
        label.append(f" (self {_ms(span.exclusive_duration_s)} ms)", style="dim")
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
@click.argument("first", metavar="[APP]", required=False)
@click.argument("second", metavar="TRACE_ID", required=False)
@format_option("tree", "json")
@pass_settings
def trace(settings: Settings, first: str | None, second: str | None, fmt: str | None) -> None:
    """Show one trace of APP: its facts, then its spans as a tree, each indented under its
    parent with its duration (and own time) and its SQL, URL, ....

    TRACE_ID is the id column of `traces`.

    \b
    scout-async trace 101 7662560768
    scout-async trace 101 7662560768 --format json | jq '.spans | length'
    """
    app_id, given = app_and(settings, first, second, "TRACE_ID", numeric=True)
    trace_id = int(click.IntRange(min=1).convert(given, None, click.get_current_context()))  # type: ignore[arg-type]
    found = run_with_client(settings, lambda client: client.traces.get(app_id, trace_id))
    if choose_format(fmt, settings, "tree") == "json":
        print_json(found, {**TRACE_UNITS, "spans[].duration_s": "s"})
    else:
        _print_trace(found)
