"""What Scout's Go CLI users expect: JSON off a terminal and with --json, units, profiles and
``auth``, a default app, a bare-host URL, completion, ``-n``, ``apps show``, usage by day and by
app, hints that name the cause, exit codes, heartbeats, and the simulator's export lines."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from scout_async._cli import main
from scout_async._cli.config import normalize_url
from scout_async.testing import ScoutSimulator, SimulatorServer
from tests.conftest import VirtualClock

from .terminal import ROOT

UTC = timezone.utc
KEY = "sk-cli-S3CR3T-conv-6a6a"
NOW = datetime(2026, 7, 5, 17, 20, 11, tzinfo=UTC)
DAY = ("--from", "2026-07-04T17:20:00Z", "--to", "2026-07-05T17:20:00Z")


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(ScoutSimulator(api_key=KEY, now=NOW)) as running:
        yield running


def run(*args: str, key: str | None = KEY, stdin: str | None = None, **env: str) -> Result:
    environment = {"SCOUT_API_KEY": key} if key is not None else {}
    result = CliRunner().invoke(
        main, list(args), env={**environment, **env}, obj=VirtualClock(wall=NOW), input=stdin
    )
    assert KEY not in result.output
    return result


def ok(*args: str, key: str | None = KEY, **env: str) -> Result:
    result = run(*args, key=key, **env)
    assert result.exit_code == 0, result.output
    return result


# --- output ---------------------------------------------------------------------------------------


def test_listings_are_json_off_a_terminal_with_units(server: SimulatorServer) -> None:
    jobs = json.loads(ok("--url", server.url, "jobs", "101", *DAY).stdout)
    assert jobs[0]["units"]["execution_time"] == "ms"
    endpoints = json.loads(ok("--url", server.url, "endpoints", "101", *DAY).stdout)
    assert endpoints[0]["units"] == {
        "response_time": "ms",
        "p95": "ms",
        "throughput": "rpm",
        "error_rate": "fraction",
        "percentage_of_total": "percent",
    }
    series = json.loads(
        ok("--url", server.url, "--json", "fetch", "101", "response_time", *DAY).stdout
    )
    assert series["unit"] == "ms"
    table = ok("--url", server.url, "jobs", "101", *DAY, "--format", "table").stdout
    assert "exec ms" in table


def test_limit_shows_n_of_m(server: SimulatorServer) -> None:
    table = ok("--url", server.url, "-n", "2", "apps", "--format", "table")
    assert table.stdout.count("Production") + table.stdout.count("Staging") <= 2
    assert "Showing 2 of 5" in table.stderr
    listed = json.loads(ok("--url", server.url, "apps", "-n", "3").stdout)
    assert len(listed) == 3


def test_apps_show(server: SimulatorServer) -> None:
    shown = json.loads(ok("--url", server.url, "apps", "show", "102").stdout)
    assert shown["id"] == 102
    text = ok("--url", server.url, "apps", "show", "102", "--format", "text").stdout
    assert "102" in text


def test_metrics_with_units(server: SimulatorServer) -> None:
    text = ok("--url", server.url, "metrics", "101", "--units", "--format", "text").stdout
    assert "response_time       ms (milliseconds)" in text
    assert "throughput          rpm (requests per minute)" in text


def test_usage_by_day_and_by_app(server: SimulatorServer) -> None:
    window = ("--from", "2026-07-01", "--to", "2026-07-03")
    days = json.loads(ok("--url", server.url, "usage", "--by-day", *window).stdout)
    assert [d["date"] for d in days] == ["2026-07-01", "2026-07-02"]
    assert all(d["transactions"] > 0 for d in days)
    apps = json.loads(ok("--url", server.url, "usage", "--by-app", *window).stdout)
    assert {a["app_id"] for a in apps} == {101, 102, 103, 104, 105}
    assert sum(a["transactions"] for a in apps) == pytest.approx(
        sum(d["transactions"] for d in days), abs=5
    )
    both = json.loads(ok("--url", server.url, "usage", "--by-day", "--by-app", *window).stdout)
    assert len(both) == 10


# --- lookbacks and hints --------------------------------------------------------------------------


def test_natural_lookbacks_are_accepted_and_the_default_is_said(server: SimulatorServer) -> None:
    for args in (("errors", "101", "--from", "30d"), ("anomalies", "101", "--from", "30d")):
        result = ok("--url", server.url, *args)
        assert result.stderr == ""
    traces = ok("--url", server.url, "traces", "101", "--job", "default/MailerJob", "--from", "7d")
    assert json.loads(traces.stdout)
    default = ok("--url", server.url, "anomalies", "101")
    assert "from the last 30 days, the longest window Scout serves" in default.stderr


def test_an_unknown_metric_is_a_usage_error(server: SimulatorServer) -> None:
    result = run("--url", server.url, "anomalies", "101", "--metric", "bogus")
    assert result.exit_code == 2
    assert "'bogus' is not one of" in result.stderr


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["apps", "show", "999"], "there is no app 999"),
        (["fetch", "101", "apdex", *DAY, "--endpoint", "no/such/endpoint"], "has no endpoint"),
        (["trace", "101", "999"], "app 101 has no trace 999"),
        (["error", "101", "999"], "app 101 has no error group 999"),
    ],
)
def test_a_404_names_what_was_not_found(
    server: SimulatorServer, args: list[str], hint: str
) -> None:
    result = run("--url", server.url, *args)
    assert result.exit_code == 1
    assert hint in result.stderr
    assert "see `scout-async apps` for the app ids" not in result.stderr or "app 999" in hint


def test_a_url_without_the_api_path_gets_it(server: SimulatorServer) -> None:
    host = server.url.removesuffix("/api/v0")
    assert normalize_url(host) == server.url
    assert normalize_url(host + "/") == server.url
    assert json.loads(ok("apps", SCOUT_API_URL=host).stdout)[0]["id"] == 101
    wrong = run("--url", host + "/v2", "apps")
    assert wrong.exit_code == 1
    assert "Its base URL ends in /api/v0" in wrong.stderr


# --- profiles and auth ----------------------------------------------------------------------------


def test_login_status_logout(server: SimulatorServer, config_file: Path) -> None:
    login = run("--url", server.url, "auth", "login", key=None, stdin=KEY + "\n")
    assert login.exit_code == 0, login.output
    assert "The key works: it sees 5 apps." in login.stderr
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    assert json.loads(config_file.read_text())["profiles"]["default"]["api_key"] == KEY
    # The stored key is used; status masks it.
    assert json.loads(ok("--url", server.url, "apps", key=None).stdout)
    status = json.loads(ok("auth", "status", key=None).stdout)
    assert status["api_key"] == "••••" + KEY[-4:]
    assert status["api_key_source"] == "profile 'default'"
    # A default app makes APP optional.
    ok("config", "set", "default_app", "102", key=None)
    jobs = ok("--url", server.url, "jobs", *DAY, key=None)
    assert json.loads(jobs.stdout) == json.loads(
        ok("--url", server.url, "jobs", "102", *DAY).stdout
    )
    fetched = json.loads(ok("--url", server.url, "fetch", "apdex", *DAY, "--format", "json").stdout)
    assert fetched["app_id"] == 102
    logout = ok("auth", "logout", key=None)
    assert "Removed the key" in logout.stderr
    missing = run("--url", server.url, "apps", key=None)
    assert missing.exit_code == 2
    assert "scout-async auth login" in missing.stderr


def test_a_wrong_key_is_not_stored(server: SimulatorServer, config_file: Path) -> None:
    result = run("--url", server.url, "auth", "login", key=None, stdin="sk-wrong-1234\n")
    assert result.exit_code == 1
    assert "refused the API key" in result.stderr
    assert "sk-wrong-1234" not in result.output
    assert not config_file.exists()


def test_profiles(server: SimulatorServer, config_file: Path) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text(
        json.dumps(
            {
                "profiles": {
                    "default": {"api_key": "sk-nope", "api_url": server.url},
                    "prod": {"api_key": KEY, "api_url": server.url, "default_app": 103},
                }
            }
        )
    )
    assert run("apps", key=None).exit_code == 1  # the default profile's key is refused
    assert json.loads(ok("--profile", "prod", "apps", "show", key=None).stdout)["id"] == 103
    assert json.loads(ok("apps", "show", key=None, SCOUT_PROFILE="prod").stdout)["id"] == 103
    unknown = run("--profile", "nope", "apps", key=None)
    assert unknown.exit_code == 2
    assert "no profile 'nope'" in unknown.stderr


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion(shell: str) -> None:
    script = ok("completion", shell, key=None).stdout
    assert "_SCOUT_ASYNC_COMPLETE" in script


# --- processes: exit codes, pipes, heartbeats -----------------------------------------------------


def spawn(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "scout_async", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
    )


@pytest.mark.parametrize(
    "command",
    [
        ("fetch", "101", "apdex", "--from", "1d"),  # its own event loop
        ("apps",),  # run_with_client, as every listing
    ],
    ids=["fetch", "apps"],
)
def test_ctrl_c_exits_130_without_click_noise(command: tuple[str, ...]) -> None:
    # The answer is held back far longer than the test takes, so Ctrl-C comes while the request
    # is under way (``requests`` lists answered requests: waiting for those sent Ctrl-C as the
    # command was ending). On Python 3.10 asyncio's own Ctrl-C handling ended this in a
    # CancelledError traceback.
    slow = ScoutSimulator(api_key=KEY, latency=120)
    with SimulatorServer(slow) as running:
        process = spawn(*command, env={"SCOUT_API_KEY": KEY, "SCOUT_API_URL": running.url})
        deadline = time.monotonic() + 60
        while slow.in_flight == 0 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert slow.in_flight == 1, "the request never came"
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Aborted" not in err
    assert "Traceback" not in err
    assert err.strip() == "error: interrupted (Ctrl-C)"
    assert all(request.cancelled for request in slow.requests)  # no answer came: not the end


_CTRL_C_AT_EXIT = """
import os, signal


class Late:
    def __del__(self):  # as the interpreter clears this module, once it has shut down signals
        os.kill(os.getpid(), signal.SIGINT)


late = Late()
from scout_async._cli import run

run()
"""


def test_ctrl_c_while_the_interpreter_exits_changes_nothing() -> None:
    # Ctrl-C once the command is over, while the interpreter shuts down (a good tenth of a
    # second), used to kill the process by the signal: exit status -2 and not a word.
    done = subprocess.run(
        [sys.executable, "-c", _CTRL_C_AT_EXIT, "--version"],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    assert "scout-async" in done.stdout


def test_a_closed_pipe_ends_quietly(server: SimulatorServer) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "scout_async", "fetch", "101", "throughput",
         "--from", "2026-07-01", "--to", "2026-07-03", "--resolution", "1m"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "SCOUT_API_KEY": KEY, "SCOUT_API_URL": server.url},
    )  # fmt: skip
    assert process.stdout is not None
    process.stdout.readline()
    process.stdout.close()  # as `| head -1` does
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0
    assert err == b""


def test_a_heartbeat_off_a_terminal() -> None:
    slow = ScoutSimulator(api_key=KEY, now=NOW, latency=0.3)
    with SimulatorServer(slow) as running:
        done = subprocess.run(
            [sys.executable, "-m", "scout_async", "--heartbeat", "0.2", "--concurrency", "1",
             "fetch", "101", "apdex", "--from", "2026-07-01", "--to", "2026-07-03",
             "--resolution", "5m", "--format", "csv"],
            capture_output=True, text=True, cwd=ROOT, timeout=60, check=False,
            env={**os.environ, "SCOUT_API_KEY": KEY, "SCOUT_API_URL": running.url},
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    beats = done.stderr.splitlines()
    assert beats
    assert all(line.startswith("fetch: app 101 · apdex ") for line in beats)
    assert any("/4 (" in line and "ETA" in line for line in beats)
    assert done.stdout.startswith("time,value\n")  # no progress among the data
    assert len(done.stdout.splitlines()) == 577


def test_the_simulator_prints_the_export_lines() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "scout_async.testing", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        assert process.stderr is not None
        url = process.stdout.readline().strip()
        said = [process.stderr.readline().strip() for _ in range(3)]
    finally:
        process.terminate()
        process.communicate(timeout=10)
    assert f"export SCOUT_API_URL={url}" in said
    assert "export SCOUT_API_KEY=sim-key" in said


def _unused(value: Any) -> None:  # keep imports honest for the type checker
    del value
