"""``archive``: keep a local SQLite archive of metric series up to date at one (fine) step.

The work is the library's archive engine (``scout_async._bulk.archive.Archive``): a catch-up by
backfill, then polling. This command reads the options, shows a line per round and the catch-up's
progress, and stops cleanly on Ctrl-C or SIGTERM (exit 0: the next run continues from there).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import attrs
import click

from ..._bulk.archive import Archive, ArchiveRound
from ..._bulk.watermarks import StepConflictError
from ..._series.steps import format_step
from ..context import (
    CliError,
    Interrupted,
    Settings,
    pass_settings,
    stderr_console,
    stdout_console,
)
from ..options import DURATION, DURATION_OR_ZERO, RESOLUTION, Ids, Names, selection_options
from ..progress import BackfillBars, heartbeat, make_progress
from ..render import error_text, note
from ..stop import run_loop, run_until_signalled
from ..times import format_instant
from .backfill import _Output, open_output_sink, shown_output

__all__ = ["archive"]


@attrs.frozen
class _Options:
    db: Path | str
    apps: Ids
    metrics: Names
    every: timedelta
    step: timedelta
    lookback: timedelta
    lateness: timedelta
    once: bool


def _say(engine: Archive, done: ArchiveRound, secret: str | None) -> None:
    """One line: when, what, how many series and rows, how far the archive is complete, and
    each series' error."""
    count = len(engine.series) if done.kind == "catch-up" else len(done.series)
    line = (
        f"{format_instant(done.at)}  {done.kind:<8} {count:,} series, "
        f"{done.rows:,} rows written; complete up to {format_instant(done.complete_until)}"
    )
    if done.errors:
        count = len(done.errors)
        listed = "; ".join(
            f"app {app_id} {metric}: {error_text(error, secret)}"
            for (app_id, metric), error in sorted(done.errors.items())
        )
        line += f"; {count} error{'s' if count > 1 else ''}: {listed}"
    stdout_console().print(line, markup=False, highlight=False, soft_wrap=True)


async def _run(
    settings: Settings, options: _Options
) -> tuple[Archive, ArchiveRound | None, str | None]:
    @contextlib.contextmanager
    def bars(chunks_per_series: int) -> Iterator[BackfillBars]:
        console = stderr_console()
        with (
            make_progress(console, transient=True) as progress,
            heartbeat(progress, console, settings.heartbeat, name="archive catch-up"),
        ):
            yield BackfillBars(
                progress, chunks_per_series=chunks_per_series, rows=settings.concurrency
            )

    async with settings.client() as client:
        engine = Archive(
            client,
            options.db,
            apps=options.apps,
            metrics=options.metrics,
            resolution=options.step,
            interval=options.every,
            lookback=options.lookback,
            lateness=options.lateness,
            on_round=lambda done: _say(engine, done, settings.api_key),
            watch=bars,
        )

        async def work() -> ArchiveRound:
            await engine.list_series()  # before the database is created: a bad key, a typo
            if engine.left_out:
                note(f"leaving out metrics this client does not know: {', '.join(engine.left_out)}")
            async with engine:
                first = await engine.catch_up()
                if not options.once:
                    await engine.poll()
            return first

        first, signalled = await run_until_signalled(work)
    return engine, first, signalled


def _check_reach(
    now: datetime, *, lookback: timedelta, lateness: timedelta, every: timedelta
) -> None:
    """A usage error for a duration that counts from ``now`` past the calendar (years 1-9999)."""
    for option, length, sign in (
        ("--lookback", lookback, -1),
        ("--lateness", lateness, -1),
        ("--every", every, 1),
    ):
        try:
            now + sign * length
        except OverflowError:
            raise click.BadParameter(
                f"{length.days:,} days {'before' if sign < 0 else 'after'} now is outside the "
                "years 1 to 9999; give a shorter one",
                param_hint=f"'{option}'",
            ) from None


EPILOG = """\b
Examples:
  scout-async archive --db scout.sqlite                         # every app and metric, 1m, every 5m
  scout-async archive --db scout.sqlite --apps 101,102 --metrics throughput,errors --every 1m
  scout-async archive --db scout.sqlite --once                  # catch up and exit (cron)
  sqlite3 scout.sqlite "SELECT time, value FROM points WHERE app_id = 101 AND metric = 'apdex'"
"""


@click.command(epilog=EPILOG)
@click.option(
    "--db",
    required=True,
    type=_Output(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="The SQLite archive (created if missing): table points(app_id, metric, time, value), "
    "one row per bucket, plus archive_watermarks; or a postgresql://USER@HOST/DB URL (needs "
    "psycopg; password in PGPASSWORD or ~/.pgpass, never shown), where several archives may run "
    "at once.",
)
@selection_options("all (listed when the command starts)")
@click.option(
    "--every",
    type=DURATION,
    default="5m",
    show_default=True,
    help="How often to poll for the newly completed buckets.",
)
@click.option(
    "--resolution",
    type=RESOLUTION,
    default="1m",
    show_default=True,
    help="Step of every series; one archive keeps one step.",
)
@click.option(
    "--lookback",
    type=DURATION,
    default="30d",
    show_default=True,
    help="How far back a series the archive does not hold yet starts (Scout keeps about 30 days).",
)
@click.option(
    "--lateness",
    type=DURATION_OR_ZERO,
    default="2m",
    show_default=True,
    help="A bucket is complete, and archived, once it ended this long ago (agents report late).",
)
@click.option(
    "--once",
    is_flag=True,
    help="Catch up to the last complete bucket, then exit (for cron); exit 1 if a series failed.",
)
@pass_settings
def archive(
    settings: Settings,
    db: Path | str,
    apps: Ids,
    metrics: Names,
    every: timedelta,
    resolution: timedelta,
    lookback: timedelta,
    lateness: timedelta,
    once: bool,
) -> None:
    """Keep an SQLite archive of metric series up to date, at the finest step, for good.

    On start it catches up: every series from where the archive ends (or --lookback ago, for a
    series it does not hold yet) up to the last complete bucket. Then it polls every --every and
    writes the new buckets as they complete, one line per round (rows written, errors per
    series). Rows are upserted on (app_id, metric, time): no duplicates, whenever and however
    often it runs. Stop it at any moment: the current write finishes and it exits 0 on SIGTERM
    (a service manager), 130 on Ctrl-C; the next start continues from there. Off a terminal the
    catch-up prints a progress line every --heartbeat seconds.
    """
    settings.require_key()
    if isinstance(db, str):  # a database URL: checked (and psycopg found) before anything runs
        open_output_sink(db, "--db")
    elif not db.parent.is_dir():
        raise click.BadParameter(f"the directory {db.parent} does not exist", param_hint="'--db'")
    _check_reach(settings.now(), lookback=lookback, lateness=lateness, every=every)
    shown = shown_output(db)
    options = _Options(
        db=db,
        apps=apps,
        metrics=metrics,
        every=every,
        step=resolution,
        lookback=lookback,
        lateness=lateness,
        once=once,
    )
    try:
        engine, first, signalled = run_loop(lambda: _run(settings, options))
    except StepConflictError as exc:
        raise click.UsageError(
            f"{shown} archives app {exc.series[0]} {exc.series[1]} at "
            f"{format_step(exc.stored)}, not {format_step(exc.asked)}; pass --resolution "
            f"{format_step(exc.stored)} or use another --db"
        ) from None
    if signalled is not None:
        until = engine.complete_until
        said = (
            f"archive stopped ({signalled}); {shown} is complete up to "
            f"{'-' if until is None else format_instant(until)}: run it again to continue"
        )
        if signalled == "SIGINT":
            raise Interrupted(said)
        stderr_console().print(said, markup=False, highlight=False, soft_wrap=True)
        return
    if first is not None and first.errors:
        count = len(first.errors)
        raise CliError(
            f"{count} series could not be brought up to date (see above); the next run retries "
            f"{'them' if count > 1 else 'it'} from where {shown} ends"
        )
