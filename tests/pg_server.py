"""A real PostgreSQL server for the tests, started from the installed binaries (``initdb``,
``pg_ctl``; Debian's ``postgresql`` package puts them in ``/usr/lib/postgresql/*/bin``).

One server per test session, on a free localhost port, in a temporary directory, with password
(SCRAM) authentication for the superuser ``scout``; each test gets a database of its own
(``pg_database``). As root (CI), the server runs as the ``postgres`` user, since ``initdb``
refuses root. Without the binaries the tests are skipped, except under ``CI=true``, where they
fail: CI must never pass by not testing.

``SCOUT_TEST_PG_BIN`` names another directory of binaries.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import attrs
import pytest

USER = "scout"
PASSWORD = "pg-S3CR3T-pa55word"  # never shown by the client: tests look for it in every output
_counter = itertools.count()


@attrs.frozen
class PostgresServer:
    host: str
    port: int
    directory: Path

    def url(self, database: str = "postgres", *, password: str = PASSWORD) -> str:
        return f"postgresql://{USER}:{password}@{self.host}:{self.port}/{database}"

    def shown(self, database: str = "postgres") -> str:
        """The URL as the client shows it: without the password."""
        return f"postgresql://{USER}@{self.host}:{self.port}/{database}"


def _binaries() -> Path | None:
    given = os.environ.get("SCOUT_TEST_PG_BIN")
    if given:
        return Path(given)

    def version(initdb: str) -> int:
        name = Path(initdb).parent.parent.name
        return int(name) if name.isdigit() else 0

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(command: list[str]) -> None:
    """Run a server binary (as the server's user); its output in the error if it fails."""
    done = subprocess.run(
        _as_server_user(command), capture_output=True, text=True, check=False, cwd="/"
    )
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({done.returncode}): {done.stdout}{done.stderr}")


def _as_server_user(command: list[str]) -> list[str]:
    """``command`` as the ``postgres`` user when running as root (initdb refuses root)."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def _start(*, durable: bool = False) -> PostgresServer:
    """A new server; ``durable``: with fsync and synchronous commits (for benchmarks)."""
    binaries = _binaries()
    if binaries is None or not (binaries / "pg_ctl").exists():
        message = (
            "PostgreSQL's server binaries (initdb, pg_ctl) are not installed: "
            "apt-get install postgresql"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    directory = Path(tempfile.mkdtemp(prefix="scout-pg-"))
    data, password_file = directory / "data", directory / "password"
    password_file.write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        for path in (directory, password_file):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    try:
        port = _initdb_and_start(binaries, directory, data, password_file, durable=durable)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return PostgresServer(host="127.0.0.1", port=port, directory=directory)


def _initdb_and_start(
    binaries: Path, directory: Path, data: Path, password_file: Path, *, durable: bool
) -> int:
    """Create the cluster in ``data`` and start it on a free port; that port."""
    _run(
        [
            str(binaries / "initdb"),
            "-D",
            str(data),
            "-U",
            USER,
            "--auth=scram-sha-256",
            f"--pwfile={password_file}",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        ]
    )
    port = _free_port()
    options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c max_connections=60"
    if not durable:  # a test server only has to survive the client being killed, not the host
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    _run(
        [
            str(binaries / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(directory / "server.log"),
            "-w",
            "start",
        ]
    )
    return port


def _stop(server: PostgresServer) -> None:
    binaries = _binaries()
    assert binaries is not None
    with contextlib.suppress(RuntimeError):
        _run(
            [
                str(binaries / "pg_ctl"),
                "-D",
                str(server.directory / "data"),
                "-m",
                "immediate",
                "-w",
                "stop",
            ]
        )
    shutil.rmtree(server.directory, ignore_errors=True)


_server: PostgresServer | None = None


def server(config: pytest.Config) -> PostgresServer:
    """The session's server, started on first use and stopped when the session ends."""
    global _server
    if _server is None:
        _server = _start()
        started = _server

        def stop() -> None:
            global _server
            _stop(started)
            _server = None

        config.add_cleanup(stop)
    return _server


Row = tuple[int, str, str, "float | None"]


def rows(url: str, table: str = "points") -> list[Row]:
    """Every row of ``table``, time as ISO 8601 UTC with ``Z``, sorted by (app, metric, time)."""
    import psycopg

    with psycopg.connect(url) as db:
        found = db.execute(
            f"SELECT app_id, metric, to_char(time AT TIME ZONE 'UTC', "
            f'\'YYYY-MM-DD"T"HH24:MI:SS"Z"\'), value FROM {table} ORDER BY 1, 2, 3'
        ).fetchall()
    return [(int(a), str(m), str(t), v) for a, m, t, v in found]


def query(url: str, sql: str, *params: object) -> list[tuple[object, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        cursor = db.execute(sql, params or None)
        return cursor.fetchall() if cursor.description else []


def new_database(server: PostgresServer) -> str:
    """A fresh, empty database; its name."""
    import psycopg

    name = f"t{os.getpid()}_{next(_counter)}"
    with psycopg.connect(server.url(), autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")
    return name


@pytest.fixture
def pg_server(request: pytest.FixtureRequest) -> PostgresServer:
    return server(request.config)


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> str:
    """The URL (with the password) of a fresh database of its own."""
    return pg_server.url(new_database(pg_server))
