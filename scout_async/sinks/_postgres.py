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
"""

from __future__ import annotations

import re
import secrets
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from itertools import repeat
from typing import TYPE_CHECKING, Any, TypeVar

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
_RETRIES = 5  # a deadlock or serialization failure of the upsert is tried again this often
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
        self._params = params
        self._shown = _display(params)
        self._table = table
        self._db: psycopg.Connection[Any] | None = None
        self._lock: anyio.Lock | None = None
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
        self._db = await anyio.to_thread.run_sync(self._open, resume)

    def _open(self, resume: Mapping[str, Any] | None) -> psycopg.Connection[Any]:
        db = self._connect()
        try:
            self._create_tables(db)
            if resume is None:
                self._token = secrets.token_hex(16)
                db.execute(
                    self._sql(
                        "INSERT INTO {jobs} (token) VALUES (%s)", jobs=self._table_sql("_jobs")
                    ),
                    (self._token,),
                )
            elif "token" in resume:  # checkpointed to a file: is this the database it wrote to?
                self._token = str(resume["token"])
                found = db.execute(
                    self._sql(
                        "SELECT 1 FROM {jobs} WHERE token = %s", jobs=self._table_sql("_jobs")
                    ),
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
        except self._psycopg.Error as exc:
            db.close()
            raise self._error("cannot prepare", exc) from None
        except BaseException:
            db.close()
            raise
        return db

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
        db, lock = self._require_open()
        columns = Points.from_points(points)
        async with lock:
            await anyio.to_thread.run_sync(self._copy, db, app_id, metric, columns)

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

        return await anyio.to_thread.run_sync(self._on_own_connection, read)

    async def close(self) -> None:
        """Close the connection. Rows written since the last ``flush`` are dropped, as a crash
        would drop them: the database holds what the last flush (and its checkpoint) covers."""
        db, self._db = self._db, None
        if db is None:
            return
        lock = self._lock or anyio.Lock()
        async with lock:
            await anyio.to_thread.run_sync(db.close)

    # -- committing --------------------------------------------------------------------------

    async def _commit(self, record: Callable[[psycopg.Connection[Any]], None] | None) -> None:
        db, lock = self._require_open()
        async with lock:
            await anyio.to_thread.run_sync(self._upsert, db, record)

    def _upsert(
        self, db: psycopg.Connection[Any], record: Callable[[psycopg.Connection[Any]], None] | None
    ) -> None:
        """Staging rows into the table, then ``record``, then an empty staging table: one
        transaction, tried again on a deadlock or a serialization failure."""
        errors = self._psycopg.errors
        sql = self._sql(
            "INSERT INTO {points} AS p (app_id, metric, time, value) "
            "SELECT DISTINCT ON (app_id, metric, time) app_id, metric, to_timestamp(time), value "
            f"FROM {_STAGING} ORDER BY app_id, metric, time, seq DESC "
            "ON CONFLICT (app_id, metric, time) DO UPDATE SET value = EXCLUDED.value "
            "WHERE p.value IS DISTINCT FROM EXCLUDED.value",
            points=self._table_sql(),
        )
        for attempt in range(_RETRIES):
            try:
                with db.transaction():
                    db.execute(sql)
                    if record is not None:
                        record(db)
                    db.execute(f"TRUNCATE {_STAGING}")
                return
            except (errors.DeadlockDetected, errors.SerializationFailure) as exc:
                if attempt == _RETRIES - 1:
                    raise self._error("cannot commit to", exc) from None
            except self._psycopg.Error as exc:
                raise self._failed("cannot commit to", exc) from None

    def _require_open(self) -> tuple[psycopg.Connection[Any], anyio.Lock]:
        if self._db is None or self._lock is None:
            raise RuntimeError(f"{self!r} is not open")
        return self._db, self._lock

    def _on_own_connection(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        db = self._connect()
        try:
            return work(db)
        except self._psycopg.Error as exc:
            raise self._error("cannot read from", exc) from None
        finally:
            db.close()

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

        return await anyio.to_thread.run_sync(self._on_own_connection, read)

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
        for app_id, metric, seconds, until in await anyio.to_thread.run_sync(
            self._on_own_connection, read
        ):
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
