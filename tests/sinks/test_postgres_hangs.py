"""PostgresSink when the database stops answering (a server process stopped with SIGSTOP, a
query stuck behind a lock): a cancellation comes back at once, the connection is given up and
nothing partial is committed; TCP keepalives by default; a deadlocked upsert tried again after
growing pauses."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest

from scout_async.sinks import PostgresSink, SinkError, SqliteSink
from scout_async.testing import Fault
from tests.pg_server import PASSWORD, PostgresServer, pg_server, pg_url, query, rows
from tests.sinks.test_postgres import (
    JOB,
    checkpointed,
    chunk,
    chunks_left,
    client_of,
    commit_three_then_stage,
    data_requests,
    no_secret,
    rows_of,
    simulator,
    sqlite_rows,
)

__all__ = ["pg_server", "pg_url"]  # the fixtures, used by name

# Generous on purpose (CI is slow and loaded): the bound is "not stuck", not a speed.
PROMPT = 10.0
# A stopped server is let go after this long whatever happens, so that a sink that cannot be
# cancelled fails the PROMPT bound instead of hanging the session.
WATCHDOG = 2 * PROMPT


class Watched(PostgresSink):
    """A PostgresSink that tells when its worker thread has started a copy or an upsert, and can
    stop the server process of its connection just before its next checkpoint."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.in_call = threading.Event()
        self.watching = False
        self.hang: Stopped | None = None  # set: the next call at ``hang_at`` stops the server
        self.hang_at = "checkpoint"  # before a flush_checkpoint, or before a "write"

    def watch(self) -> None:
        """From now on, ``entered`` returns once a copy or an upsert is under way."""
        self.in_call.clear()
        self.watching = True

    def _copy(self, *args: Any) -> None:
        if self.watching:
            self.in_call.set()
        super()._copy(*args)

    def _upsert(self, *args: Any) -> None:
        if self.watching:
            self.in_call.set()
        super()._upsert(*args)

    def entered(self) -> None:
        """Returns once the worker thread is in a copy or an upsert (blocking)."""
        self.in_call.wait(WATCHDOG)

    def backend(self) -> int:
        assert self._db is not None
        found = self._db.execute("SELECT pg_backend_pid()").fetchone()
        assert found is not None
        return int(found[0])

    async def flush_checkpoint(self, job: str, document: Any) -> None:
        if self.hang_at == "checkpoint":
            self._stop_the_server()
        await super().flush_checkpoint(job, document)

    async def write(self, app_id: int, metric: str, points: Any) -> None:
        if self.hang_at == "write":
            self._stop_the_server()
        await super().write(app_id, metric, points)

    def _stop_the_server(self) -> None:
        hang, self.hang = self.hang, None
        if hang is not None:
            self.watch()
            hang.stop(self.backend())


class Stopped:
    """A server process stopped (SIGSTOP) until the block ends, or WATCHDOG seconds."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self._watchdog: threading.Timer | None = None

    def stop(self, pid: int) -> None:
        self.pid = pid
        self._watchdog = threading.Timer(WATCHDOG, self.resume)
        self._watchdog.start()
        os.kill(pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGCONT)

    def __enter__(self) -> Stopped:
        return self

    def __exit__(self, *_: object) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        self.resume()  # ALWAYS: a stopped server would hang the tests after this one


async def cancelled_in_the_call(
    in_call: Callable[[], object], operation: Callable[[], Awaitable[object]]
) -> float:
    """Run ``operation``, cancel it once ``in_call()`` (blocking) returns, i.e. once its worker
    thread is in the database call; the seconds from the cancellation to ``operation`` giving
    back."""
    cancelled_at = time.monotonic()

    async def cancel_once_in() -> None:
        nonlocal cancelled_at
        await anyio.to_thread.run_sync(in_call, abandon_on_cancel=True)
        cancelled_at = time.monotonic()
        tg.cancel_scope.cancel()

    async with anyio.create_task_group() as tg:
        tg.start_soon(cancel_once_in)
        await operation()
        pytest.fail("the operation was not cancelled")
    return time.monotonic() - cancelled_at


@pytest.mark.parametrize("operation", ["write", "flush_checkpoint"])
async def test_a_call_to_a_hung_server_is_cancelled_at_once_and_commits_nothing(
    pg_url: str, operation: str
) -> None:
    sink = Watched(pg_url)
    await commit_three_then_stage(sink)
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "write": lambda: sink.write(101, "apdex", chunk(6, 3)),
        "flush_checkpoint": lambda: sink.flush_checkpoint("job", {"done": 6}),
    }
    with Stopped() as server:
        sink.watch()
        server.stop(sink.backend())
        assert await cancelled_in_the_call(sink.entered, calls[operation]) < PROMPT
        # The connection is given up: the next call says so, and closing does not wait on it.
        with pytest.raises(SinkError) as caught:
            await sink.flush_checkpoint("job", {"done": 6})
        message = str(caught.value)
        assert message.startswith(f"postgres sink: lost the connection to {sink.database}: ")
        assert "\n" not in message
        assert "run the job again to resume" in message
        no_secret(message, repr(caught.value))
        started = time.monotonic()
        await sink.close()
        assert time.monotonic() - started < PROMPT
    # Once the server goes on: nothing of the cancelled work is committed.
    assert rows(pg_url) == rows_of(101, "apdex", chunk(0, 3))
    assert await PostgresSink(pg_url).read_checkpoint("job") == {"done": 3}
    # The job run again from its checkpoint writes the rest, each row once.
    resumed = PostgresSink(pg_url)
    await resumed.open()
    await resumed.write(101, "apdex", chunk(3, 3, base=9.0))
    await resumed.write(101, "apdex", chunk(0, 2, base=9.0))
    await resumed.flush_checkpoint("job", {"done": 6})
    await resumed.close()
    assert rows(pg_url) == sorted(
        rows_of(101, "apdex", chunk(0, 2, base=9.0) + chunk(0, 3)[2:] + chunk(3, 3, base=9.0))
    )
    assert await PostgresSink(pg_url).read_checkpoint("job") == {"done": 6}


def test_a_call_to_a_hung_server_is_cancelled_at_once_on_trio(pg_url: str) -> None:
    # trio delivers a cancellation (and Ctrl-C) to the waiting task the same way.
    async def main() -> float:
        sink = Watched(pg_url)
        await sink.open()
        await sink.write(101, "apdex", chunk(0, 3))
        with Stopped() as server:
            sink.watch()
            server.stop(sink.backend())
            took = await cancelled_in_the_call(
                sink.entered, lambda: sink.flush_checkpoint("job", {"done": 3})
            )
            with pytest.raises(SinkError, match="lost the connection"):
                await sink.write(101, "apdex", chunk(3, 3))
            await sink.close()
        return took

    assert anyio.run(main, backend="trio") < PROMPT
    assert rows(pg_url) == []  # the cancelled flush committed nothing


async def test_a_read_stuck_behind_a_lock_is_cancelled_at_once(pg_url: str) -> None:
    import psycopg

    sink = PostgresSink(pg_url)
    await sink.open()
    await sink.flush_checkpoint("job", {"done": 0})
    await sink.close()
    with psycopg.connect(pg_url) as admin:
        admin.execute("LOCK TABLE points_checkpoints IN ACCESS EXCLUSIVE MODE")
        pid = admin.info.backend_pid
        # Ends the lock after WATCHDOG seconds, so that a read that cannot be cancelled fails.
        watchdog = threading.Timer(
            WATCHDOG, lambda: query(pg_url, "SELECT pg_terminate_backend(%s)", pid)
        )
        watchdog.start()
        try:
            # Cancelled once its server process waits for the lock: in the database.
            took = await cancelled_in_the_call(
                lambda: _lock_waiter(pg_url), lambda: sink.read_checkpoint("job")
            )
            assert took < PROMPT
        finally:
            watchdog.cancel()
    # The read's connection was closed: its server process leaves once the lock is gone.
    deadline = time.monotonic() + PROMPT
    while _sessions(pg_url) and time.monotonic() < deadline:
        await anyio.to_thread.run_sync(time.sleep, 0.02)  # polled: the server's own pace
    assert _sessions(pg_url) == 0
    assert await PostgresSink(pg_url).read_checkpoint("job") == {"done": 0}


def _lock_waiter(url: str) -> None:
    """Returns once a scout-async session waits for a lock."""
    deadline = time.monotonic() + WATCHDOG
    while time.monotonic() < deadline:
        if query(
            url,
            "SELECT 1 FROM pg_stat_activity WHERE application_name = 'scout-async' "
            "AND datname = current_database() AND wait_event_type = 'Lock'",
        ):
            return
        time.sleep(0.01)


def _sessions(url: str) -> int:
    found = query(
        url,
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'scout-async' "
        "AND datname = current_database()",
    )
    return int(str(found[0][0]))


@pytest.mark.parametrize("hang_at", ["checkpoint", "write"])
async def test_a_backfill_cancelled_at_a_hung_database_stops_at_once_and_resumes_exactly(
    hang_at: str, pg_url: str, tmp_path: Path
) -> None:
    sim = simulator()
    sink = Watched(pg_url)
    sink.hang_at = hang_at
    async with client_of(sim, max_concurrency=2) as client:
        await client.backfill(**JOB, sink=SqliteSink(tmp_path / "ref.db"))
        with Stopped() as server:

            def hang(progress: Any) -> None:
                # "checkpoint": every chunk is written, the next checkpoint is the final one.
                # "write": a write in the middle of the job (inside the backfill's step of a
                # write and its watermark, which it shields for other sinks).
                due = progress.chunks_done == progress.chunks_total
                if hang_at == "write":
                    due = 2 <= progress.chunks_done < progress.chunks_total - 2
                if due and server.pid is None:
                    sink.hang = server

            took = await cancelled_in_the_call(
                sink.entered, lambda: client.backfill(**JOB, sink=sink, progress=hang)
            )
            assert server.pid is not None  # it did hang
            assert took < PROMPT
        # The database holds exactly what its checkpoint covers...
        done, covered = await checkpointed(pg_url, tmp_path / "ref.db")
        assert rows(pg_url) == covered
        # ...and the job run again fetches exactly the rest: every row, none twice.
        before = data_requests(sim)
        result = await client.backfill(**JOB, sink=pg_url)
        assert result.ok
        fetched = data_requests(sim) - before
    assert rows(pg_url) == sqlite_rows(tmp_path / "ref.db")
    assert fetched == chunks_left(done)


class SlowFor101(PostgresSink):
    """A PostgresSink whose copies of app 101 wait until app 102 has failed, and a second more:
    the job stops (102 failed) while a copy of 101 is under way."""

    def __init__(self, url: str, sim: Any) -> None:
        super().__init__(url)
        self.sim = sim

    def _copy(self, db: Any, app_id: int, *args: Any) -> None:
        if app_id == 101:
            deadline = time.monotonic() + WATCHDOG
            while time.monotonic() < deadline and not any(
                "/apps/102/" in r.path and r.status == 500 for r in self.sim.requests
            ):
                time.sleep(0.01)
            time.sleep(1.0)  # the job's stop comes now
        super()._copy(db, app_id, *args)


async def test_the_jobs_own_stop_does_not_cut_a_write_short(pg_url: str) -> None:
    # The job stops itself (a series failed, max_consecutive_failures=1) while a write of another
    # series is under way: the write finishes, the job returns its result with ``stopped``, and
    # the final checkpoint commits it. Cut short, the write would be lost, and the sink's
    # connection with it.
    sim = simulator()
    sim.add_fault(Fault(path="/apps/102/metrics/*", status=500, times=None))
    job = {**JOB, "apps": [101, 102], "metrics": ["apdex"]}
    async with client_of(sim, max_concurrency=2, max_retries=0) as client:
        result = await client.backfill(
            **job, sink=SlowFor101(pg_url, sim), max_consecutive_failures=1
        )
        assert result.stopped is not None
        done = {(s.app_id, s.metric): s for s in result.series}
        assert done[(102, "apdex")].status == "failed"
        assert done[(101, "apdex")].chunks >= 1  # the write under way at the stop was kept
    (document,) = [row[0] for row in query(pg_url, "SELECT document FROM points_checkpoints")]
    assert isinstance(document, dict)
    marks = {(s["app_id"], s["metric"]): s["done_until"] for s in document["series"]}
    assert marks[(101, "apdex")] is not None  # committed with its rows
    assert rows(pg_url)


async def test_an_archive_cancelled_at_a_hung_database_stops_at_once_and_catches_up_exactly(
    pg_url: str, tmp_path: Path
) -> None:
    from scout_async._bulk.archive import Archive
    from tests.sinks.test_postgres import _backend_of

    sim = simulator()
    what: dict[str, Any] = {
        "apps": [101, 102],
        "metrics": ["apdex", "throughput"],
        "lookback": timedelta(days=2),
    }
    async with client_of(sim, max_concurrency=2, clock=sim.clock) as client:
        async with Archive(client, tmp_path / "ref.sqlite", **what) as reference:
            await reference.catch_up()
        with Stopped() as server:
            async with Archive(client, pg_url, **what) as archive:  # its connection is up
                server.stop(await anyio.to_thread.run_sync(_backend_of, pg_url))
                # The catch-up's first write hangs on the stopped server (its own backfill's
                # step of a write and its watermark, which it shields for other sinks).
                deadline = time.monotonic() + 2.0
                with anyio.move_on_after(2.0) as scope:
                    await archive.catch_up()
            took = time.monotonic() - deadline  # the close included
        assert scope.cancelled_caught
        assert took < PROMPT
        # Once the server runs again, a new catch-up completes the archive: every row, once.
        async with Archive(client, pg_url, **what) as again:
            await again.catch_up()
    assert rows(pg_url) == sqlite_rows(tmp_path / "ref.sqlite")


# -- keepalives --------------------------------------------------------------------------------


def _conninfo(sink: PostgresSink) -> dict[str, Any]:
    import psycopg

    assert sink._db is not None
    return dict(psycopg.conninfo.conninfo_to_dict(sink._db.info.dsn))


async def test_tcp_keepalives_are_on_by_default_and_the_url_overrides_them(pg_url: str) -> None:
    sink = PostgresSink(pg_url)
    await sink.open()
    used = _conninfo(sink)
    dsn = sink._db.info.dsn if sink._db is not None else ""
    await sink.close()
    assert {k: used.get(k) for k in ("keepalives", "keepalives_idle")} == {
        "keepalives": "1",
        "keepalives_idle": "30",
    }
    assert used.get("keepalives_interval") == "10"
    assert used.get("keepalives_count") == "3"
    assert used.get("tcp_user_timeout") == "60000"
    no_secret(dsn, used, sink._params.get("keepalives"))

    given = PostgresSink(f"{pg_url}?keepalives_idle=5&tcp_user_timeout=20000")
    await given.open()
    used = _conninfo(given)
    await given.close()
    assert used.get("keepalives_idle") == "5"
    assert used.get("tcp_user_timeout") == "20000"
    assert used.get("keepalives_count") == "3"  # the others keep their defaults
    no_secret(used, repr(given), given.location)


def test_a_connection_string_overrides_the_keepalives_too(pg_server: PostgresServer) -> None:
    sink = PostgresSink(
        f"host={pg_server.host} port={pg_server.port} user=scout password={PASSWORD} keepalives=0"
    )
    assert sink._params["keepalives"] == "0"
    assert sink._params["keepalives_idle"] == "30"
    no_secret(repr(sink), sink.location)


# -- a deadlock is tried again, after a pause ----------------------------------------------------


async def test_a_deadlocked_upsert_is_tried_again_after_growing_pauses(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    sink = PostgresSink(pg_url)
    await sink.open()
    assert sink._db is not None
    db = sink._db
    execute = db.execute
    attempts: list[float] = []
    failures = 3

    def deadlocking(statement: Any, *args: Any, **kwargs: Any) -> Any:
        text = statement if isinstance(statement, str) else repr(statement)
        if "INSERT INTO" in text and "scout_async_staging" in text:  # the upsert
            attempts.append(time.monotonic())
            if len(attempts) <= failures:
                raise psycopg.errors.DeadlockDetected("deadlock detected")
        return execute(statement, *args, **kwargs)

    monkeypatch.setattr(db, "execute", deadlocking)
    await sink.write(101, "apdex", chunk(0, 3))
    await sink.flush_checkpoint("job", {"done": 3})
    assert len(attempts) == failures + 1
    pauses = [b - a for a, b in itertools.pairwise(attempts)]
    # 50 ms doubling, each 50-100 % of that: at least 25, 50, 100 ms.
    assert all(p >= 0.025 * 2**i for i, p in enumerate(pauses)), pauses
    assert rows(pg_url) == rows_of(101, "apdex", chunk(0, 3))  # the staging rows were kept

    # Bounded: five attempts, then a one-line error.
    attempts.clear()
    failures = 99
    await sink.write(101, "apdex", chunk(3, 3))
    with pytest.raises(SinkError) as caught:
        await sink.flush_checkpoint("job", {"done": 6})
    assert len(attempts) == 5
    message = str(caught.value)
    assert message == f"postgres sink: cannot commit to {sink.database}: deadlock detected"
    no_secret(message, repr(caught.value))
    await sink.close()
    assert await PostgresSink(pg_url).read_checkpoint("job") == {"done": 3}
