"""``scout-async backfill --output postgresql://...``, ``--shard`` and ``scout-async archive --db
postgresql://...`` against a real PostgreSQL server (tests/pg_server.py) and the simulator over
localhost HTTP. The database password is never shown."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner, Result

from scout_async._cli import main
from scout_async.testing import ScoutSimulator, SimulatorServer
from tests.conftest import VirtualClock
from tests.pg_server import PASSWORD, PostgresServer, new_database, pg_server, query, rows

__all__ = ["pg_server"]  # the fixture, used by name

UTC = timezone.utc
KEY = "sk-cli-S3CR3T-postgres-9f9f"
NOW = datetime(2026, 7, 5, 17, 20, 11, tzinfo=UTC)
START, END = "2026-07-01T00:00:00Z", "2026-07-03T00:00:00Z"
WINDOW = ("--from", START, "--to", END, "--resolution", "5m")
SELECTION = ("--apps", "101,102", "--metrics", "throughput,apdex")
BUCKETS = 2 * 24 * 12  # two days at 5 min


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(ScoutSimulator(api_key=KEY, now=NOW)) as running:
        yield running


@pytest.fixture
def database(pg_server: PostgresServer) -> str:
    return new_database(pg_server)


def cli(*args: str, clock: VirtualClock | None = None) -> Result:
    return CliRunner().invoke(
        main, list(args), env={"SCOUT_API_KEY": KEY}, catch_exceptions=False, obj=clock
    )


def shown(result: Result) -> str:
    text = result.output + result.stderr
    assert PASSWORD not in text
    return text


def test_backfill_into_postgres_keeps_its_checkpoint_in_the_database(
    server: SimulatorServer, pg_server: PostgresServer, database: str
) -> None:
    url = pg_server.url(database)
    result = cli("--url", server.url, "backfill", *SELECTION, *WINDOW, "-o", url)
    assert result.exit_code == 0, shown(result)
    out = shown(result)
    assert f"output      {pg_server.shown(database)} (postgresql)" in out
    assert "checkpoint  the database" in out
    assert len(rows(url)) == 4 * BUCKETS
    assert len(query(url, "SELECT job FROM points_checkpoints")) == 1
    # The same command again: the plan's checkpoint says it is complete, nothing is fetched.
    again = cli("--url", server.url, "backfill", *SELECTION, *WINDOW, "-o", url)
    assert again.exit_code == 0, shown(again)
    assert "this run    0 points in 0 chunks" in shown(again)


def test_the_resume_command_shows_the_url_without_its_password(
    pg_server: PostgresServer, database: str
) -> None:
    sim = ScoutSimulator(api_key=KEY, now=NOW)
    from scout_async.testing import Fault

    sim.add_fault(Fault(path="/apps/102/metrics/apdex", status=503, times=None))
    url = pg_server.url(database)
    with SimulatorServer(sim) as running:
        result = cli(
            "--url", running.url, "--max-retries", "0", "backfill", *SELECTION, *WINDOW, "-o", url
        )
    assert result.exit_code == 1
    text = shown(result)
    assert "Resume with: scout-async" in text
    assert f"--output {pg_server.shown(database)} --resume" in " ".join(text.split())


def test_shards_of_one_backfill_fill_one_database(
    server: SimulatorServer, pg_server: PostgresServer, database: str
) -> None:
    url = pg_server.url(database)
    for shard in ("0/2", "1/2"):
        result = cli(
            "--url", server.url, "backfill", *SELECTION, *WINDOW, "-o", url, "--shard", shard
        )
        assert result.exit_code == 0, shown(result)
    assert len(rows(url)) == 4 * BUCKETS
    documents = query(url, "SELECT document->'plan'->>'shard' FROM points_checkpoints ORDER BY 1")
    assert documents == [("0/2",), ("1/2",)]


@pytest.mark.parametrize("shard", ["2/2", "1", "a/b", "-1/2", "0/0"])
def test_a_bad_shard_is_a_usage_error(server: SimulatorServer, shard: str) -> None:
    result = cli("--url", server.url, "backfill", *WINDOW, "-o", "x.db", "--shard", shard)
    assert result.exit_code == 2
    assert "'--shard'" in result.stderr
    assert "0 <= I < N" in result.stderr


def test_bad_credentials_are_one_error_line_without_the_password(
    server: SimulatorServer, pg_server: PostgresServer
) -> None:
    wrong = "wr0ng-CLI-pa55"
    url = pg_server.url(password=wrong)
    for command in (
        ("backfill", *SELECTION, *WINDOW, "-o", url),
        ("archive", "--db", url, *SELECTION, "--once"),
    ):
        result = cli("--url", server.url, *command)
        assert result.exit_code == 1
        assert wrong not in result.output + result.stderr
        (line,) = result.stderr.splitlines()
        assert " ".join(line.split()) == (
            f"error: postgres sink: cannot connect to {pg_server.shown()}: connection to server "
            f'at "127.0.0.1", port {pg_server.port} failed: FATAL: password authentication '
            'failed for user "scout"'
        )


def test_archive_into_postgres(pg_server: PostgresServer, database: str) -> None:
    clock = VirtualClock(NOW)
    sim = ScoutSimulator(api_key=KEY, now=clock.now)
    url = pg_server.url(database)
    with SimulatorServer(sim) as running:
        result = cli(
            "--url", running.url, "archive", "--db", url, *SELECTION, "--once",
            "--lookback", "3h", clock=clock,
        )  # fmt: skip
    assert result.exit_code == 0, shown(result)
    text = shown(result)
    assert "catch-up" in text
    marks = query(url, "SELECT DISTINCT until FROM points_watermarks")
    assert len(marks) == 1
    (until,) = marks[0]
    assert until == datetime(2026, 7, 5, 17, 18, tzinfo=UTC)  # the last complete bucket
    # From the first whole minute of the lookback (14:21) to the last complete bucket (17:18).
    assert len(rows(url)) == 4 * 177


def test_archive_step_conflict_names_the_database_without_the_password(
    pg_server: PostgresServer, database: str
) -> None:
    clock = VirtualClock(NOW)
    sim = ScoutSimulator(api_key=KEY, now=clock.now)
    url = pg_server.url(database)
    with SimulatorServer(sim) as running:
        first = cli(
            "--url", running.url, "archive", "--db", url, *SELECTION, "--once",
            "--lookback", "1h", clock=clock,
        )  # fmt: skip
        assert first.exit_code == 0, shown(first)
        second = cli(
            "--url", running.url, "archive", "--db", url, *SELECTION, "--once",
            "--lookback", "1h", "--resolution", "5m", clock=clock,
        )  # fmt: skip
    assert second.exit_code == 2
    assert f"{pg_server.shown(database)} archives app 101" in shown(second)
    assert timedelta(minutes=1)  # the step it keeps is 1m
