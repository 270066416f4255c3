"""PostgreSQL sink (needs psycopg 3: ``pip install 'scout-async[postgres]'``).

How rows get in. ``write`` copies a chunk into a session-private staging table with ``COPY``
(binary), committed at once: nothing outside this connection sees it, and a failed upsert can
be tried again from it. Staging holds a time as epoch seconds (``bigint``), read straight from
the chunk's array: no ``datetime`` a row (measured: two thirds of the client CPU of copying
``timestamptz`` from datetimes, half that of text COPY). ``flush`` moves the staging rows into
the table in one transaction: ``INSERT ... SELECT ... to_timestamp(time) ... ORDER BY app_id,
metric, time ON CONFLICT (app_id, metric, time) DO UPDATE``, together with whatever must be
durable with them (a backfill's checkpoint, an archive's watermarks), then empties the staging
table. Every writer upserts in the same key order, so several processes writing the same rows
wait for each other instead of deadlocking (a deadlock or serialization failure is retried
anyway: the staging rows are still there).

Resume. A backfill without a checkpoint file keeps its checkpoint in ``{table}_checkpoints``,
committed in the same transaction as the rows it covers (``flush_checkpoint``): a kill at any
moment leaves the rows and the checkpoint of the last commit, so the resumed job neither loses
nor repeats a row. With a checkpoint file, the position is a token in ``{table}_jobs`` (as for
SQLite): resuming into a database that lacks it is refused.

The connection string's password is never shown: ``location``, ``repr`` and every error name
the database as ``postgresql://user@host:port/dbname``, and text from the server or libpq is
scrubbed of the password before it is shown. Blocking calls run in a worker thread, one at a
time, so the sink works on asyncio and trio alike.

A database that stops answering. A cancellation gives up the worker thread at once and shuts
the connection's socket down, which ends the blocked call in that thread; the connection is then
never used again (``write`` and ``flush`` raise ``SinkError``, ``close`` returns at once). TCP
keepalives and ``tcp_user_timeout`` are on by default, so a peer that vanished is noticed.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import secrets
import socket
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from functools import partial
from itertools import repeat
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio
import anyio.to_thread

from .._exceptions import (
    ArgumentError,
    ArgumentTypeError,
    CheckpointMismatchError,
    SinkError,
)
from ..types._points import Point, Points
from ._base import Position

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresSink", "is_postgres_url", "redact_url"]

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_SCHEMES = ("postgresql://", "postgres://")
_STAGING = "pg_temp.scout_async_staging"
_RETRIES = 5  # attempts of an upsert that fails with a deadlock or a serialization failure
_PAUSE = 0.05  # seconds before the second attempt, doubling (jittered) up to _PAUSE_CAP
_PAUSE_CAP = 1.0
_SETTLE = 5.0  # seconds a cancelled call's thread is waited for once its socket is shut down
# libpq defaults, each overridable by the URL: a peer that vanished (host gone, network cut) is
# found in about a minute instead of the OS's ~15 (or never, when nothing is being sent).
_KEEPALIVES = {
    "keepalives": "1",
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "3",
    "tcp_user_timeout": "60000",  # ms: data unacknowledged this long ends the connection
}
_PASSWORD_PARAMETER = re.compile(r"password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)")

T = TypeVar("T")


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)


def is_postgres_url(text: object) -> bool:
    """Whether ``text`` is a ``postgresql://`` (or ``postgres://``) URL."""
    return isinstance(text, str) and text.lower().startswith(_SCHEMES)


def _import_psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:
        raise ImportError(
            "PostgresSink needs psycopg, which is not installed: "
            "pip install 'scout-async[postgres]' (or pip install 'psycopg[binary]')"
        ) from exc
    return psycopg


def _passwords(conninfo: str) -> list[str]:
    """Every spelling of a password in ``conninfo`` (URL user info, ``password=``, encoded or
    not), found without libpq, so that even an unparsable string can be scrubbed."""
    found: list[str] = []
    if is_postgres_url(conninfo):
        netloc = conninfo.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0]
        userinfo = netloc.rpartition("@")[0]
        if ":" in userinfo:
            found.append(userinfo.split(":", 1)[1])
    for match in _PASSWORD_PARAMETER.finditer(conninfo):
        found.append(match.group(1).strip("'"))
    spelled = {s for raw in found if raw for s in (raw, urllib.parse.unquote(raw))}
    return sorted(spelled, key=len, reverse=True)


def _scrubbed(text: str, passwords: Iterable[str]) -> str:
    """``text`` on one line, without any of ``passwords``."""
    for password in passwords:
        if password:
            text = text.replace(password, "***")
    return "; ".join(part.strip() for part in text.splitlines() if part.strip())


def redact_url(conninfo: str) -> str:
    """``conninfo`` as it may be shown: ``postgresql://user@host:port/dbname``, no password
    and no other parameter. A string that does not parse is shown as ``postgresql://?``.

    >>> redact_url("postgresql://scout:s3cret@db.internal:5432/metrics?sslmode=require")
    'postgresql://scout@db.internal:5432/metrics'
    """
    psycopg = _import_psycopg()
    try:
        params = psycopg.conninfo.conninfo_to_dict(conninfo)
    except psycopg.Error:
        return "postgresql://?"
    return _display(params)


def _display(params: Mapping[str, Any]) -> str:
    user = str(params.get("user") or "")
    host = str(params.get("host") or "")
    port = str(params.get("port") or "")
    dbname = str(params.get("dbname") or "")
    where = urllib.parse.quote(host, safe="") if host.startswith("/") else host
    if port:
        where += f":{port}"
    who = f"{urllib.parse.quote(user, safe='')}@" if user else ""
    return f"postgresql://{who}{where}/{urllib.parse.quote(dbname, safe='')}"


class PostgresSink:
    """Points in a PostgreSQL table (created if missing; a TimescaleDB hypertable when the
    ``timescaledb`` extension is installed in the database)::

        points(app_id bigint, metric text, time timestamptz, value double precision,
               PRIMARY KEY (app_id, metric, time))

    ``url``: a ``postgresql://user:password@host:port/dbname`` URL or a libpq connection
    string; leave the password out to take it from ``PGPASSWORD`` or ``~/.pgpass``. Re-running
    a backfill, or several archives at once, never duplicates a row. Beside the table:
    ``{table}_checkpoints`` (backfill checkpoints, one per plan and shard), ``{table}_watermarks``
    (an archive's), ``{table}_jobs`` (tokens of jobs checkpointed to a file).

    >>> await client.backfill(apps="all", metrics="all", start=t0, end=t1,
    ...                       sink="postgresql://scout@db.internal/metrics")  # resumable as is

    Raises ``ImportError`` at construction if psycopg is missing, ``SinkError`` (never showing
    the password) if the database cannot be reached or refuses the login.
    """

    #: A cancellation may cut any call short: written rows count only once flushed (with their
    #: checkpoint), and rows written again are upserts. A backfill does not shield its writes.
    interruptible = True

    def __init__(self, url: str, *, table: str = "points", connect_timeout: float = 10.0) -> None:
        if not isinstance(url, str):
            raise ArgumentTypeError(f"url must be a str, got {type(url).__name__}")
        if not isinstance(table, str) or not _IDENTIFIER.match(table) or len(table) > 40:
            raise ArgumentError(
                "postgres sink: table must be a plain lowercase SQL identifier of at most 40 "
                f"characters, got {table!r}"
            )
        if isinstance(connect_timeout, bool) or not isinstance(connect_timeout, (int, float)):
            raise ArgumentTypeError(f"connect_timeout must be seconds, got {connect_timeout!r}")
        if not connect_timeout > 0:
            raise ArgumentError(f"connect_timeout must be > 0 seconds, got {connect_timeout!r}")
        self._psycopg = _import_psycopg()
        self._secrets = _passwords(url)
        try:
            params = self._psycopg.conninfo.conninfo_to_dict(url)
        except self._psycopg.Error as exc:
            raise ArgumentError(
                "postgres sink: not a valid connection URL or string "
                f"({_scrubbed(str(exc), self._secrets)})"
            ) from None
        self._secrets = sorted(
            {*self._secrets, *([str(params["password"])] if params.get("password") else [])},
            key=len,
            reverse=True,
        )
        params.setdefault("application_name", "scout-async")
        params.setdefault("connect_timeout", str(max(1, round(connect_timeout))))
        for name, value in _KEEPALIVES.items():
            params.setdefault(name, value)
        self._params = params
        self._shown = _display(params)
        self._table = table
        self._db: psycopg.Connection[Any] | None = None
        self._lock: anyio.Lock | None = None
        self._lost = False  # a cancelled call left the connection mid-protocol: given up
        self._token = ""
        self._hypertable = False

    def __repr__(self) -> str:
        return f"PostgresSink({self._shown!r}, table={self._table!r})"

    @property
    def location(self) -> str:
        return f"{self._shown}#{self._table}"

    @property
    def database(self) -> str:
        """The database, as it may be shown (no password)."""
        return self._shown

    @property
    def table(self) -> str:
        return self._table

    @property
    def hypertable(self) -> bool:
        """Whether the table is a TimescaleDB hypertable (known once open)."""
        return self._hypertable

    # -- connections -------------------------------------------------------------------------

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            return self._psycopg.connect(autocommit=True, **self._params)  # type: ignore[no-any-return]
        except self._psycopg.Error as exc:
            raise self._error("cannot connect to", exc) from None

    def _error(self, doing: str, exc: BaseException, then: str = "") -> SinkError:
        """One line: what failed, the database (no password), what it said (scrubbed)."""
        said = _scrubbed(str(exc), self._secrets) or type(exc).__name__
        said = said.removeprefix("connection failed: ")
        _drop_frames(exc)
        return SinkError(f"postgres sink: {doing} {self._shown}: {said}{then}")

    def _failed(self, doing: str, exc: BaseException) -> SinkError:
        """``exc`` while writing: a lost connection says how to go on."""
        if isinstance(exc, self._psycopg.OperationalError):
            return self._error(
                "lost the connection to",
                exc,
                "; what was written since the last checkpoint is not committed: run the job "
                "again to resume",
            )
        return self._error(doing, exc)

    def _table_sql(self, suffix: str = "") -> Any:
        return self._psycopg.sql.Identifier(self._table + suffix)

    def _sql(self, template: str, **names: Any) -> Any:
        return self._psycopg.sql.SQL(template).format(**names)

    # -- the Sink protocol -------------------------------------------------------------------

    async def open(self, resume: Mapping[str, Any] | None = None) -> None:
        self._lock = anyio.Lock()
        self._lost = False
        call: _Call[psycopg.Connection[Any]] = _Call()

        def work() -> psycopg.Connection[Any]:
            db = call.attach(self._connect())  # closed by the call if what follows fails
            try:
                self._prepare(db, resume)
            except self._psycopg.Error as exc:
                raise self._error("cannot prepare", exc) from None
            return db

        self._db = await call.run(work)

    def _prepare(self, db: psycopg.Connection[Any], resume: Mapping[str, Any] | None) -> None:
        self._create_tables(db)
        if resume is None:
            self._token = secrets.token_hex(16)
            db.execute(
                self._sql("INSERT INTO {jobs} (token) VALUES (%s)", jobs=self._table_sql("_jobs")),
                (self._token,),
            )
        elif "token" in resume:  # checkpointed to a file: is this the database it wrote to?
            self._token = str(resume["token"])
            found = db.execute(
                self._sql("SELECT 1 FROM {jobs} WHERE token = %s", jobs=self._table_sql("_jobs")),
                (self._token,),
            ).fetchone()
            if found is None:
                raise CheckpointMismatchError(
                    f"cannot resume into {self.location}: the database holds no rows of the "
                    "checkpointed job (was it dropped or replaced?). Delete the checkpoint to "
                    "start over"
                )
        db.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGING} ("
            "seq bigint GENERATED ALWAYS AS IDENTITY, app_id bigint NOT NULL, "
            "metric text NOT NULL, time bigint NOT NULL, value double precision)"
        )
        db.execute(f"TRUNCATE {_STAGING}")

    def _create_tables(self, db: psycopg.Connection[Any]) -> None:
        """The table and its companions, once; concurrent openers wait on an advisory lock (two
        ``CREATE TABLE IF NOT EXISTS`` at once can fail in PostgreSQL)."""
        names = {
            "points": self._table_sql(),
            "jobs": self._table_sql("_jobs"),
            "checkpoints": self._table_sql("_checkpoints"),
            "watermarks": self._table_sql("_watermarks"),
        }
        with db.transaction():
            db.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))", (f"scout_async:{self._table}",)
            )
            exists = db.execute("SELECT to_regclass(%s)", (self._table,)).fetchone()
            db.execute(
                self._sql(
                    "CREATE TABLE IF NOT EXISTS {points} (app_id bigint NOT NULL, "
                    "metric text NOT NULL, time timestamptz NOT NULL, value double precision, "
                    "PRIMARY KEY (app_id, metric, time))",
                    **names,
                )
            )
            db.execute(
                self._sql(
                    "CREATE TABLE IF NOT EXISTS {jobs} (token text PRIMARY KEY, "
                    "started timestamptz NOT NULL DEFAULT now())",
                    **names,
                )
            )
            db.execute(
                self._sql(
                    "CREATE TABLE IF NOT EXISTS {checkpoints} (job text PRIMARY KEY, "
                    "document jsonb NOT NULL, updated timestamptz NOT NULL DEFAULT now())",
                    **names,
                )
            )
            db.execute(
                self._sql(
                    "CREATE TABLE IF NOT EXISTS {watermarks} (app_id bigint NOT NULL, "
                    "metric text NOT NULL, step_seconds integer NOT NULL, "
                    "until timestamptz NOT NULL, PRIMARY KEY (app_id, metric))",
                    **names,
                )
            )
            timescale = db.execute(
                "SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'"
            ).fetchone()
            if timescale is not None:
                if exists is None or exists[0] is None:
                    db.execute(
                        "SELECT create_hypertable(%s::regclass, 'time', if_not_exists => TRUE, "
                        "migrate_data => TRUE)",
                        (self._table,),
                    )
                found = db.execute(
                    "SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = %s",
                    (self._table,),
                ).fetchone()
                self._hypertable = found is not None

    async def write(self, app_id: int, metric: str, points: Sequence[Point]) -> None:
        if not points:
            return
        _, lock = self._require_open()
        columns = Points.from_points(points)
        async with lock:
            db, _ = self._require_open()  # again: a call cancelled meanwhile may have lost it
            await self._on(db, partial(self._copy, db, app_id, metric, columns))

    def _copy(self, db: psycopg.Connection[Any], app_id: int, metric: str, points: Points) -> None:
        values = [None if v != v else v for v in points.values.tolist()]  # NaN: missing, NULL
        rows = zip(repeat(app_id), repeat(metric), points.times.tolist(), values)
        try:
            with (
                db.cursor() as cursor,
                cursor.copy(
                    f"COPY {_STAGING} (app_id, metric, time, value) FROM STDIN (FORMAT BINARY)"
                ) as copy,
            ):
                copy.set_types(["int8", "text", "int8", "float8"])
                write_row = copy.write_row
                for row in rows:
                    write_row(row)
        except self._psycopg.Error as exc:
            raise self._failed("cannot write to", exc) from None

    async def flush(self) -> Position:
        await self._commit(None)
        return {"token": self._token}

    async def flush_checkpoint(self, job: str, document: Mapping[str, Any]) -> None:
        """Commit the written rows and ``document`` under ``job``, in one transaction."""
        jsonb = self._psycopg.types.json.Jsonb(dict(document))
        sql = self._sql(
            "INSERT INTO {checkpoints} (job, document) VALUES (%s, %s) ON CONFLICT (job) DO "
            "UPDATE SET document = EXCLUDED.document, updated = now()",
            checkpoints=self._table_sql("_checkpoints"),
        )

        def record(db: psycopg.Connection[Any]) -> None:
            db.execute(sql, (job, jsonb))

        await self._commit(record)

    async def read_checkpoint(self, job: str) -> dict[str, Any] | None:
        """The checkpoint document recorded under ``job``, or ``None`` (open or not)."""

        def read(db: psycopg.Connection[Any]) -> dict[str, Any] | None:
            if not self._has(db, "_checkpoints"):
                return None
            found = db.execute(
                self._sql(
                    "SELECT document FROM {checkpoints} WHERE job = %s",
                    checkpoints=self._table_sql("_checkpoints"),
                ),
                (job,),
            ).fetchone()
            return None if found is None else dict(found[0])

        return await self._read(read)

    async def close(self) -> None:
        """Close the connection. Rows written since the last ``flush`` are dropped, as a crash
        would drop them: the database holds what the last flush (and its checkpoint) covers. A
        connection given up after a cancellation is closed by its call: nothing to wait for."""
        self._lost = False
        if self._db is None:
            return
        lock = self._lock or anyio.Lock()
        async with lock:  # taken under the lock: a call cancelled meanwhile may have lost it
            db, self._db = self._db, None
            if db is not None:
                # Not through ``_on``: closing never waits on the server (libpq's terminate
                # message is not awaited), and a cancellation shutting the socket down while
                # libpq closes it could hit another socket that took its number.
                await anyio.to_thread.run_sync(db.close)

    # -- running blocking calls ---------------------------------------------------------------

    async def _on(self, db: psycopg.Connection[Any], work: Callable[[], T]) -> T:
        """``work()``, blocking calls on the sink's connection ``db``, in a worker thread. If a
        cancellation gives the call up while it runs, ``db`` is lost: never used again."""
        call: _Call[T] = _Call(db)
        try:
            return await call.run(work)
        finally:
            if call.lost and self._db is db:
                self._db, self._lost = None, True

    async def _read(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        """``work(db)`` on a connection of its own (the sink need not be open), in a worker
        thread, cancellable like every call."""
        call: _Call[T] = _Call(keep=False)

        def run() -> T:
            db = call.attach(self._connect())
            try:
                return work(db)
            except self._psycopg.Error as exc:
                raise self._error("cannot read from", exc) from None

        return await call.run(run)

    # -- committing --------------------------------------------------------------------------

    async def _commit(self, record: Callable[[psycopg.Connection[Any]], None] | None) -> None:
        """Staging rows into the table, then ``record``, then an empty staging table: one
        transaction, tried again after a pause on a deadlock or a serialization failure (the
        staging rows are still there)."""
        errors = self._psycopg.errors
        _, lock = self._require_open()
        async with lock:
            for attempt in range(_RETRIES):
                db, _ = self._require_open()
                try:
                    await self._on(db, partial(self._upsert, db, record))
                    return
                except (errors.DeadlockDetected, errors.SerializationFailure) as exc:
                    if attempt == _RETRIES - 1:
                        raise self._error("cannot commit to", exc) from None
                # The other transaction needs a moment to finish; at once, the same writers
                # would likely collide again. Jittered, so that two retrying writers drift apart.
                await anyio.sleep(_pause(attempt))

    def _upsert(
        self, db: psycopg.Connection[Any], record: Callable[[psycopg.Connection[Any]], None] | None
    ) -> None:
        """One attempt of ``_commit`` (in the worker thread)."""
        errors = self._psycopg.errors
        sql = self._sql(
            "INSERT INTO {points} AS p (app_id, metric, time, value) "
            "SELECT DISTINCT ON (app_id, metric, time) app_id, metric, to_timestamp(time), value "
            f"FROM {_STAGING} ORDER BY app_id, metric, time, seq DESC "
            "ON CONFLICT (app_id, metric, time) DO UPDATE SET value = EXCLUDED.value "
            "WHERE p.value IS DISTINCT FROM EXCLUDED.value",
            points=self._table_sql(),
        )
        try:
            with db.transaction():
                db.execute(sql)
                if record is not None:
                    record(db)
                db.execute(f"TRUNCATE {_STAGING}")
        except (errors.DeadlockDetected, errors.SerializationFailure):
            raise  # _commit tries again
        except self._psycopg.Error as exc:
            raise self._failed("cannot commit to", exc) from None

    def _require_open(self) -> tuple[psycopg.Connection[Any], anyio.Lock]:
        if self._lost:
            raise SinkError(
                f"postgres sink: lost the connection to {self._shown}: a call on it was "
                "cancelled; what was written since the last checkpoint may not be committed: run "
                "the job again to resume"
            )
        if self._db is None or self._lock is None:
            raise RuntimeError(f"{self!r} is not open")
        return self._db, self._lock

    def _has(self, db: psycopg.Connection[Any], suffix: str) -> bool:
        found = db.execute("SELECT to_regclass(%s)", (self._table + suffix,)).fetchone()
        return found is not None and found[0] is not None

    # -- what an archive needs ---------------------------------------------------------------

    async def newest_times(self) -> dict[tuple[int, str], datetime]:
        """The time of each series' newest row, ``{(app_id, metric): time}`` (open or not)."""

        def read(db: psycopg.Connection[Any]) -> dict[tuple[int, str], datetime]:
            if not self._has(db, ""):
                return {}
            rows = db.execute(
                self._sql(
                    "SELECT app_id, metric, max(time) FROM {points} GROUP BY app_id, metric",
                    points=self._table_sql(),
                )
            ).fetchall()
            return {(int(a), str(m)): _utc(t) for a, m, t in rows if t is not None}

        return await self._read(read)

    async def read_watermarks(
        self, series: Iterable[tuple[int, str]], step: timedelta
    ) -> dict[tuple[int, str], datetime]:
        """An archive's watermark of each of ``series`` that has one; ``StepConflictError`` if
        one was recorded at another step."""
        from .._bulk.watermarks import StepConflictError

        wanted = set(series)

        def read(db: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
            if not self._has(db, "_watermarks"):
                return []
            return db.execute(
                self._sql(
                    "SELECT app_id, metric, step_seconds, until FROM {watermarks}",
                    watermarks=self._table_sql("_watermarks"),
                )
            ).fetchall()

        found: dict[tuple[int, str], datetime] = {}
        for app_id, metric, seconds, until in await self._read(read):
            key = (int(app_id), str(metric))
            if key not in wanted:
                continue
            if int(seconds) != int(step.total_seconds()):
                raise StepConflictError(
                    self.location, key, stored=timedelta(seconds=int(seconds)), asked=step
                )
            found[key] = _utc(until)
        return found

    async def commit_watermarks(
        self, marks: Mapping[tuple[int, str], datetime], step: timedelta
    ) -> None:
        """Commit the written rows and an archive's watermarks ``marks`` in one transaction. A
        watermark never moves back: another archive may have moved it further."""
        seconds = int(step.total_seconds())
        rows = sorted((a, m, seconds, until) for (a, m), until in marks.items())
        sql = self._sql(
            "INSERT INTO {watermarks} AS w (app_id, metric, step_seconds, until) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (app_id, metric) DO UPDATE SET "
            "step_seconds = EXCLUDED.step_seconds, until = GREATEST(w.until, EXCLUDED.until)",
            watermarks=self._table_sql("_watermarks"),
        )

        def record(db: psycopg.Connection[Any]) -> None:
            if rows:
                with db.cursor() as cursor:
                    cursor.executemany(sql, rows)

        await self._commit(record)


def _drop_frames(exc: BaseException | None) -> None:
    """Forget the frames of ``exc`` and of everything chained to it: the driver's frames hold the
    connection parameters (the password among them) in their locals, and the error raised in its
    place keeps ``exc`` as its context, where an error tracker that captures locals would look."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        exc.__traceback__ = None
        exc = exc.__cause__ or exc.__context__


def _pause(attempt: int) -> float:
    """Seconds to wait after failed attempt ``attempt`` (0-based): 50 ms doubling up to 1 s, each
    a random 50-100 % of that."""
    return min(_PAUSE_CAP, _PAUSE * 2.0**attempt) * random.uniform(0.5, 1.0)


class _Abandoned(Exception):
    """Raised in a worker thread whose call was given up before it got to the database (nobody
    waits for it)."""


class _Call(Generic[T]):
    """One blocking call on a connection, in a worker thread, that a cancellation gets through
    at once even when the database never answers.

    A worker thread cannot be interrupted, so a cancellation gives the thread up (``run_sync``'s
    ``abandon_on_cancel``) and shuts the connection's socket down: libpq's wait in that thread
    then ends at once with an error, whatever the server does. Asking the server to cancel the
    query instead (``cancel_safe()``) would keep the connection usable, but only a server that
    answers acts on it: a stopped or overloaded backend never gets to it, and with the host gone
    the request itself waits for its timeout. Once its socket is shut down, the connection is in
    an unknown state mid-protocol: the call gives it up (``lost``) and the thread closes it when
    it is out (closing it sooner would free libpq's state under the thread). Nothing partial is
    committed: a COMMIT is only sent once every statement before it succeeded, and a server that
    finds the connection gone rolls its transaction back. (A cancellation that comes while the
    COMMIT is on its way leaves it unknown whether it took: the rows and their checkpoint are one
    transaction, either way a resumed job finds them consistent.)

    ``_guard`` orders the two threads: the worker closes a connection only once out of the call,
    and the event loop duplicates the connection's socket only while the worker is in it, so
    the descriptor duplicated is the connection's, not a reuse of its number. (libpq closes the
    socket itself on a broken connection, which ends the call: only the instant between that
    and the worker leaving the call is left open.)
    """

    def __init__(self, db: psycopg.Connection[Any] | None = None, *, keep: bool = True) -> None:
        self._guard = threading.Lock()
        self._db = db
        self._given = db is not None  # the sink's connection; else one the call opens (attach)
        self._keep = keep  # whether a connection the call opened outlives it (handed over)
        self._running = False
        self._abandoned = False
        self._handed_over = False
        self._done = threading.Event()
        self.lost = False  # the call was given up while on the connection: closed by the call

    def attach(self, db: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
        """In the worker: ``db``, the connection the call opened, is its to close (at its end,
        unless kept and the call succeeded)."""
        with self._guard:
            self._db = db
            if self._abandoned:  # given up while connecting: no query on it
                raise _Abandoned
        return db

    async def run(self, work: Callable[[], T]) -> T:
        try:
            return await anyio.to_thread.run_sync(self._work, work, abandon_on_cancel=True)
        except BaseException:
            # Cancelled (or interrupted: trio delivers Ctrl-C by cancelling the wait); after an
            # error of the call itself, the worker is out and this is a no-op.
            with anyio.CancelScope(shield=True):
                if self._give_up():
                    # The worker leaves the call in milliseconds once its socket is shut down;
                    # waiting for it means the connection is closed when the cancellation goes on.
                    await anyio.to_thread.run_sync(self._done.wait, _SETTLE)
            raise

    def _work(self, work: Callable[[], T]) -> T:
        """In the worker thread."""
        with self._guard:
            if self._abandoned:
                raise _Abandoned
            self._running = True
        failed = True
        try:
            result = work()
            failed = False
            return result
        finally:
            with self._guard:
                self._running = False
                close = self._abandoned or (not self._given and (failed or not self._keep))
                self._handed_over = not close and not self._given
            if close and self._db is not None:
                with contextlib.suppress(Exception):
                    self._db.close()
            self._done.set()

    def _give_up(self) -> bool:
        """In the event loop: no one waits for the call any more. Whether its worker was on a
        connection, now shut down (wait for it to be out)."""
        with self._guard:
            self._abandoned = True
            if self._running:
                self.lost = True
                return self._db is not None and _shut_down(self._db)
            leftover = self._db if self._handed_over else None
        if leftover is not None:  # opened for the caller, who is gone: nobody else has it
            leftover.close()
        return False


def _shut_down(db: psycopg.Connection[Any]) -> bool:
    """Shut ``db``'s socket down, both ways, under the thread using it; whether done."""
    try:
        fd = os.dup(db.fileno())
    except Exception:  # closed or lost already: nothing to wake
        return False
    try:
        sock = socket.socket(fileno=fd)
    except OSError:
        os.close(fd)
        return False
    with sock, contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    return True
