"""``backfill``: every series of some apps over a window, at one step, into a file, a database or
a directory, with a checkpoint so that an interrupted run continues where it stopped."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import attrs
import click
from click.core import ParameterSource

from ..._bulk.checkpoint import CheckpointFile, SavedPlan, SinkCheckpoints
from ..._bulk.report import BackfillResult
from ..._bulk.selection import SeriesKey
from ..._core import ClientStats
from ..._exceptions import (
    APIConnectionError,
    ArgumentError,
    RateLimitError,
    ScoutError,
    ServerError,
)
from ..._series.planner import Chunk, plan_range
from ..._series.steps import format_step
from ..._time import display_time
from ...sinks import CheckpointingSink, CsvSink, JsonlSink, Sink, open_sink
from ...sinks._postgres import is_postgres_url, redact_url
from ..context import CliError, Interrupted, Settings, pass_settings, scrub, stderr_console
from ..options import RESOLUTION, TIME, Ids, Names, selection_options, to_option
from ..progress import BackfillBars, WatchedSink, heartbeat, make_progress
from ..render import listing_console, print_backfill_summary
from ..stop import run_loop, run_until_signalled
from ..times import TIME_HELP, TimeSpec, format_instant, resolve_window

__all__ = [
    "DIRECTORY_STATE_NAME",
    "backfill",
    "default_state_path",
    "open_output_sink",
    "resume_command",
    "writes_a_directory_of_files",
]

#: The state file of a backfill into a directory of per-series files lives inside it.
DIRECTORY_STATE_NAME = ".scout-backfill.json"

# Global options that shape how a job runs (never the key): repeated in the resume command when
# they were given on the command line.
_GLOBAL_OPTIONS = (
    ("url", "--url"),
    ("auth", "--auth"),
    ("concurrency", "--concurrency"),
    ("timeout", "--timeout"),
    ("max_retries", "--max-retries"),
)


class _Output(click.Path):
    """A path, or a database URL kept as it is (``Path`` would fold its ``//``)."""

    def convert(
        self,
        value: str | os.PathLike[str],
        param: click.Parameter | None,
        ctx: click.Context | None,
    ) -> str | bytes | os.PathLike[str]:
        if isinstance(value, str) and is_postgres_url(value):
            return value
        return super().convert(value, param, ctx)


def shown_output(output: Path | str) -> str:
    """``output`` as it may be printed: a database URL without its password."""
    return (
        redact_url(output) if isinstance(output, str) and is_postgres_url(output) else str(output)
    )


def open_output_sink(output: Path | str, option: str = "--output") -> Sink:
    """The sink ``open_sink`` picks for ``output``; a usage error names ``option`` if none fits."""
    try:
        return open_sink(output)
    except ArgumentError as exc:
        raise click.BadParameter(str(exc), param_hint=f"'{option}'") from None
    except ImportError as exc:  # .parquet without pyarrow
        raise CliError(str(exc)) from None


def parts_directory(output: Path) -> Path:
    """Where a backfill into one line file (``.jsonl``, ``.csv``) keeps one file per series
    (``.NAME.parts`` next to it), so the file can be put together in one fixed order."""
    absolute = Path(os.path.abspath(output))
    return absolute.with_name(f".{absolute.name}.parts")


def staged_sink(sink: Sink, output: Path) -> Sink | None:
    """For one line file, the per-series sink the backfill writes into (``parts_directory``);
    ``None`` for any other output.

    Series are written concurrently, so one shared line file would hold their chunks in the
    order they happened to arrive, and a resumed run would write them in another: written per
    series and put together in series order (``assemble``), the file is the same bytes however
    often the job was interrupted and resumed.
    """
    if isinstance(sink, JsonlSink) and not writes_a_directory_of_files(sink):
        return JsonlSink(parts_directory(output), per_series=True)
    if isinstance(sink, CsvSink) and not writes_a_directory_of_files(sink):
        return CsvSink(parts_directory(output), per_series=True)
    return None


def _part_order(path: Path) -> tuple[int, str]:
    app, _, metric = path.stem.partition("-")
    return (int(app) if app.isdigit() else 0, unquote(metric))


def assemble(parts: Path, output: Path, *, csv_header: bool) -> None:
    """Write ``output`` (atomically) from the series files in ``parts``, in (app, metric) order;
    a CSV keeps one header."""
    files = sorted((p for p in parts.glob("*") if p.is_file()), key=_part_order)
    temporary = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("wb") as out:
            if csv_header:
                out.write(b"app_id,metric,time,value\n")
            for part in files:
                with part.open("rb") as source:
                    if csv_header:
                        source.readline()
                    shutil.copyfileobj(source, out)
        os.replace(temporary, output)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def writes_a_directory_of_files(sink: Sink) -> bool:
    """Whether ``sink`` is one file per series in a directory (its location ends in a separator)
    rather than one file, a database or a Parquet dataset."""
    return sink.location.endswith(os.sep) and not sink.location.startswith("parquet:")


def default_state_path(output: Path, sink: Sink) -> Path:
    """``DIR/.scout-backfill.json`` for a directory of per-series files, else ``OUTPUT.state.json``
    next to the output (``points.sqlite.state.json``)."""
    absolute = Path(os.path.abspath(output))
    if writes_a_directory_of_files(sink):
        return absolute / DIRECTORY_STATE_NAME
    return absolute.with_name(absolute.name + ".state.json")


@attrs.frozen
class _Job:
    apps: Ids
    metrics: Names
    start: datetime
    end: datetime
    chunks: list[Chunk]
    sink: Sink
    state: Path | None  # None: the database output keeps the checkpoint
    done_before: dict[SeriesKey, int]
    shard: tuple[int, int] | None = None

    @property
    def step(self) -> timedelta:
        return self.chunks[0].step


@attrs.frozen
class _Outcome:
    result: BackfillResult | None
    signalled: str | None
    seconds: float
    stats: ClientStats


def _given(ctx: click.Context, name: str) -> bool:
    return ctx.get_parameter_source(name) not in (
        ParameterSource.DEFAULT,
        ParameterSource.DEFAULT_MAP,
    )


def _resumed_window(
    saved: SavedPlan, start: TimeSpec | None, end: TimeSpec
) -> tuple[datetime, datetime]:
    """The checkpoint's window; an explicit ISO ``--from``/``--to`` must be that very window (a
    relative one, such as ``30d``, would have moved since, so it is not compared)."""
    for spec, saved_at, option in ((start, saved.start, "--from"), (end, saved.end, "--to")):
        given = None if spec is None else spec.instant
        # Whole seconds: a checkpoint written through the library may hold microseconds.
        if given is not None and given.replace(microsecond=0) != saved_at.replace(microsecond=0):
            raise click.UsageError(
                f"{option} {format_instant(given)} is not the window of the checkpoint "
                f"({format_instant(saved.start)} → {format_instant(saved.end)}); resuming "
                "continues that window: leave out --from/--to, or pass the checkpoint's"
            )
    return saved.start, saved.end


def _done_before(saved: SavedPlan, chunks: list[Chunk]) -> dict[SeriesKey, int]:
    return {
        key: sum(1 for chunk in chunks if mark is not None and chunk.owned_end <= mark)
        for key, mark in saved.done_until.items()
    }


def _listed(values: Ids | Names) -> str:
    return values if isinstance(values, str) else ",".join(str(v) for v in values)


def resume_command(
    ctx: click.Context, job: _Job, output: Path, checkpoint: Path | None, *, resume: bool = True
) -> str:
    """The exact command that resumes ``job``: its plan spelled out, with ISO times; without
    ``resume``, the command that starts it over (nothing was written yet)."""
    root = ctx.find_root()
    words = ["scout-async"]
    for name, flag in _GLOBAL_OPTIONS:
        if root.get_parameter_source(name) is ParameterSource.COMMANDLINE:
            words += [flag, str(root.params[name])]
    words += [
        "backfill",
        "--apps", _listed(job.apps),
        "--metrics", _listed(job.metrics),
        "--from", display_time(job.start),  # a fraction of a second too, if the plan has one
        "--to", display_time(job.end),
        "--resolution", format_step(job.step),
        "--output", shown_output(output),
    ]  # fmt: skip
    if job.shard is not None:
        words += ["--shard", f"{job.shard[0]}/{job.shard[1]}"]
    if checkpoint is not None:
        words += ["--checkpoint", str(checkpoint)]
    if resume:
        words.append("--resume")
    return shlex.join(words)


async def _run(settings: Settings, job: _Job) -> _Outcome:
    began = time.monotonic()
    console = stderr_console()
    with make_progress(console, transient=False) as progress:
        bars = BackfillBars(
            progress,
            chunks_per_series=len(job.chunks),
            rows=settings.concurrency,
            done_before=job.done_before,
        )
        async with settings.client() as client, contextlib.AsyncExitStack() as stack:
            stack.enter_context(heartbeat(progress, console, settings.heartbeat, name="backfill"))
            result, signalled = await run_until_signalled(
                lambda: client.backfill(
                    apps=job.apps,
                    metrics=job.metrics,
                    start=job.start,
                    end=job.end,
                    resolution=job.step,
                    sink=WatchedSink(job.sink, bars),
                    checkpoint=job.state if job.state is not None else _in_database(job.sink),
                    progress=bars.update,
                    shard=job.shard,
                )
            )
            stats = client.stats
        bars.finish()
    return _Outcome(result, signalled, time.monotonic() - began, stats)


def _in_database(sink: Sink) -> SinkCheckpoints:
    assert isinstance(sink, CheckpointingSink)
    return SinkCheckpoints(sink)


EPILOG = """\b
Examples:
  scout-async backfill --apps all --metrics all --from 30d --resolution 1m -o scout.sqlite
  scout-async backfill --apps 101,102 --metrics throughput,errors --from 7d -o points.jsonl
  scout-async backfill --apps 101 --from 2026-06-01 --to 2026-07-01 -o june/  # a file per series
  scout-async backfill -o scout.sqlite --resume       # continue an interrupted run
"""


@click.command(epilog=EPILOG)
@selection_options("all")
@click.option(
    "--from",
    "start",
    type=TIME,
    default=None,
    help=f"Window start; needed unless --resume. {TIME_HELP}",
)
@to_option
@click.option(
    "--resolution",
    type=RESOLUTION,
    default="1m",
    show_default=True,
    help="Step of every series; 1m is the finest Scout keeps (30 days at 1m: 720 requests per "
    "series).",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=_Output(path_type=Path),
    metavar="PATH",
    help="Where the rows (app_id, metric, time, value) go, by extension: .sqlite/.db (upserted), "
    ".parquet (a dataset directory, needs pyarrow), .jsonl, .csv; a directory (or a path "
    "without extension, created) gets one .jsonl per series; a postgresql://USER@HOST/DB URL "
    "(upserted, needs psycopg; the checkpoint is kept in the database; give the password in "
    "PGPASSWORD or ~/.pgpass, it is never shown).",
)
@click.option(
    "--shard",
    default=None,
    metavar="I/N",
    help="Only shard I of N (0 <= I < N) of the series, split by a stable hash of app and "
    "metric, with a checkpoint of its own: N jobs (run at once, for example) cover the "
    "backfill once.",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Continue the backfill the checkpoint belongs to: its window, and its apps, metrics and "
    "resolution unless given. The output ends up as an uninterrupted run's.",
)
@click.option(
    "--checkpoint",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="The state file that makes the job resumable.  [default: OUTPUT.state.json, or "
    "DIR/.scout-backfill.json for a directory]",
)
@pass_settings
def backfill(
    settings: Settings,
    apps: Ids,
    metrics: Names,
    start: TimeSpec | None,
    end: TimeSpec,
    resolution: timedelta,
    output: Path,
    resume: bool,
    checkpoint: Path | None,
    shard: str | None,
) -> None:
    """Fetch every metric series of some apps over one window into one output, resumably.

    Series are fetched concurrently (the global --concurrency bounds the requests in flight),
    each one in time order; every grid bucket of the window lands in the output exactly once.
    A checkpoint next to the output records how far each series is written. A series that fails
    does not stop the others; the command then exits 1 and prints the command that resumes the
    job. An existing checkpoint is never overwritten: resume it with --resume, or delete it (and
    the output) to start over. The checkpoint is kept when the job is complete.

    A file of lines (.jsonl, .csv) is written series by series into .NAME.parts/ next to it and
    put together in (app, metric) order whenever the job ends, so it holds the same bytes
    however often the job was interrupted and resumed. A run that wrote nothing leaves no
    checkpoint; a job that failed for good (an app that does not exist) is not offered a resume.

    Progress bars (rate, ETA, retries) go to stderr on a terminal, a progress line every
    --heartbeat seconds off one; the summary table goes to stdout. Ctrl-C stops the job after
    the current writes (exit 130) and says how to resume it.
    """
    ctx = click.get_current_context()
    sink = open_output_sink(output)
    split = _shard(shard)
    state: Path | None = checkpoint
    if state is None and not isinstance(sink, CheckpointingSink):
        state = default_state_path(output, sink)
        if split is not None:
            state = state.with_name(
                f"{state.name[: -len('.json')]}.shard-{split[0]}-of-{split[1]}.json"
            )
    saved: SavedPlan | None = None
    if resume and state is not None:
        if not state.is_file():
            raise click.UsageError(
                f"--resume: there is no checkpoint at {state}, so nothing to resume; run without "
                "--resume to start the backfill"
            )
        saved = CheckpointFile(state).saved_plan()
        if saved is None:  # gone since: as if it never was
            raise click.UsageError(f"--resume: there is no checkpoint at {state}")
        window = _resumed_window(saved, start, end)
        apps = apps if _given(ctx, "apps") else saved.apps
        metrics = metrics if _given(ctx, "metrics") else saved.metrics
        resolution = resolution if _given(ctx, "resolution") else saved.step
    else:  # a database finds its own checkpoint by the plan: --resume needs --from/--to
        if state is not None and state.exists():
            raise click.UsageError(
                f"a checkpoint of an earlier backfill is at {state}: pass --resume to continue "
                f"it, or delete it (and {output}) to start over"
            )
        if start is None:
            raise click.UsageError("Missing option '--from' (needed unless --resume)")
        try:
            # Whole seconds, as Scout reads times: the plan, checkpoint and resume command agree.
            now = settings.now().replace(microsecond=0)
            window = resolve_window(start, end, now)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
    try:
        chunks = plan_range(window[0], window[1], resolution)
    except ArgumentError as exc:
        raise click.UsageError(f"--from/--to/--resolution: {exc}") from None
    settings.require_key()
    if writes_a_directory_of_files(sink):
        Path(output).mkdir(exist_ok=True)
    staged = staged_sink(sink, output)
    job = _Job(
        apps=apps,
        metrics=metrics,
        start=window[0],
        end=window[1],
        chunks=chunks,
        sink=staged if staged is not None else sink,
        state=state,
        done_before={} if saved is None else _done_before(saved, chunks),
        shard=split,
    )
    try:
        outcome = run_loop(lambda: _run(settings, job))
    finally:
        if staged is not None and parts_directory(output).is_dir():
            if state is not None and state.exists():
                assemble(parts_directory(output), output, csv_header=isinstance(sink, CsvSink))
            else:
                shutil.rmtree(parts_directory(output), ignore_errors=True)
    again = resume_command(ctx, job, output, checkpoint)
    fresh = resume_command(ctx, job, output, checkpoint, resume=False)
    held = f"{state}" if state is not None else "the database"
    forget = f"{state}" if state is not None else "its checkpoint in the database"
    if outcome.result is None:
        if state is not None and not state.exists():  # stopped before the first checkpoint
            raise Interrupted(
                f"interrupted ({outcome.signalled}) before anything was written. Start again "
                f"with: {fresh}"
            )
        raise Interrupted(
            f"interrupted ({outcome.signalled}); {held} holds what was written. Resume with: "
            f"{again}"
        )
    result = outcome.result
    wrote_nothing = saved is None and not result.ok and result.chunks == 0
    print_backfill_summary(
        listing_console(),
        result,
        seconds=outcome.seconds,
        stats=outcome.stats,
        output=shown_output(output),
        kind=sink.location.split(":", 1)[0],
        state=held,
        resumed=saved is not None,
        secret=settings.api_key,
    )
    if result.ok:
        return
    if result.stopped is not None:
        why = f"the job stopped: {scrub(result.stopped, settings.api_key)}"
    else:
        failed = sum(1 for s in result.series if s.status == "failed")
        why = f"{failed} of {len(result.series)} series failed (see the table)"
    errors = [s.error for s in result.series if s.error is not None]
    permanent = bool(errors) and result.stopped is None and not any(map(_transient, errors))
    if wrote_nothing:
        # Nothing to resume: leave nothing that would make the next run ask for --resume.
        if state is not None:
            _forget(state, output, staged is not None)
        if permanent:
            raise CliError(
                f"{why}; nothing was written and running again would fail the same way: "
                f"{scrub(_first_error(errors), settings.api_key)}"
            )
        raise CliError(f"{why}; nothing was written. Run it again with: {fresh}")
    if permanent:
        raise CliError(
            f"{why}, for good: {scrub(_first_error(errors), settings.api_key)}. A resume would "
            f"fail the same way; fix the selection, or delete {forget} (and "
            f"{shown_output(output)}) to start over"
        )
    raise CliError(f"{why}. Resume with: {again}")


def _shard(text: str | None) -> tuple[int, int] | None:
    """``--shard I/N`` as ``(I, N)``; a usage error unless 0 <= I < N."""
    if text is None:
        return None
    index, slash, count = text.partition("/")
    if slash and index.strip().isdigit() and count.strip().isdigit():
        split = int(index), int(count)
        if 0 <= split[0] < split[1]:
            return split
    raise click.BadParameter(
        f"{text!r} is not I/N with 0 <= I < N (shards are numbered from 0: 0/4 ... 3/4)",
        param_hint="'--shard'",
    )


def _transient(error: ScoutError) -> bool:
    """Whether ``error`` may pass if tried again (a connection error, a 5xx, a 429)."""
    return isinstance(error, (APIConnectionError, ServerError, RateLimitError))


def _first_error(errors: list[ScoutError]) -> str:
    error = errors[0]
    where = f"{error.method} {error.path}: " if error.method and error.path else ""
    return f"{where}{error.message}"


def _forget(state: Path, output: Path, staged: bool) -> None:
    """Remove the checkpoint of a run that wrote nothing (and its empty parts)."""
    with contextlib.suppress(OSError):
        state.unlink()
    if staged:
        shutil.rmtree(parts_directory(output), ignore_errors=True)
        with contextlib.suppress(OSError):
            output.unlink()
