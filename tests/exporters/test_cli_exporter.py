"""``scout-async exporter``: a real process serving /metrics while it polls the simulator, stopped
by SIGTERM; its options; a refused key and a taken port as one line each."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from scout_async._cli import main
from scout_async._cli.commands.exporter import parse_listen
from scout_async.testing import ScoutSimulator, SimulatorServer

from .support import SECRET, parse, promtool_check

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _no_config_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without the developer's config file or profile (what tests/cli/conftest.py does there)."""
    monkeypatch.setenv("SCOUT_CONFIG", str(tmp_path / "scout-config" / "config.json"))
    for name in ("SCOUT_PROFILE", "SCOUT_APP", "SCOUT_HEARTBEAT"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is a POSIX signal")
def test_the_command_serves_metrics_and_stops_cleanly_on_sigterm(promtool: str) -> None:
    sim = ScoutSimulator(api_key=SECRET)
    with SimulatorServer(sim) as server:
        env = {**os.environ, "SCOUT_API_KEY": SECRET, "NO_COLOR": "1"}
        args = [sys.executable, "-m", "scout_async", "--url", server.url, "exporter"]
        args += ["--listen", "127.0.0.1:0", "--apps", "101,102", "--metrics", "throughput,apdex"]
        proc = subprocess.Popen(
            args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            assert proc.stderr is not None
            line = proc.stderr.readline()
            assert line.startswith("exporter: serving http://127.0.0.1:"), line
            url = line.split()[2]
            assert url.endswith("/metrics")
            assert "polling apps 101,102, throughput,apdex, every 1m at 1m" in line
            deadline = time.monotonic() + 60
            with httpx.Client(timeout=10) as http:
                while True:
                    scrape = parse(http.get(url).text)
                    if len(scrape.get("scout_app_apdex_ratio")) == 2:
                        break
                    assert time.monotonic() < deadline, scrape.text
                    time.sleep(0.05)
                assert http.get(url.replace("/metrics", "/readyz")).status_code == 200
            assert scrape.one("scout_app_throughput_requests_per_second", app_id="101") is not None
            checked = promtool_check(promtool, scrape.text)
            assert checked.returncode == 0, checked.stdout + checked.stderr
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 0, err
    assert err.strip().splitlines() == ["exporter stopped (SIGTERM)"]
    assert out == ""
    assert SECRET not in line + out + err + scrape.text
    # The port is free again: the listener closed with the process.
    host, port = url.split("/")[2].split(":")
    with socket.create_server((host, int(port))):
        pass


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("127.0.0.1:9793", ("127.0.0.1", 9793)),
        ("0.0.0.0:0", ("0.0.0.0", 0)),
        (":9100", ("0.0.0.0", 9100)),
        ("[::1]:9793", ("::1", 9793)),
        ("localhost:65535", ("localhost", 65535)),
    ],
)
def test_listen_addresses(given: str, expected: tuple[str, int]) -> None:
    assert parse_listen(given) == expected


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--listen", "9793"], "is not HOST:PORT"),
        (["--listen", "127.0.0.1:99999"], "is not HOST:PORT"),
        (["--listen", "::1:9793"], "put an IPv6 address in brackets"),
        (["--listen", "127.0.0.1:1", "--port", "2"], "give --listen HOST:PORT or --port PORT"),
        (["--port", "70000"], "70000 is not in the range"),
        (["--every", "0m"], "--every"),
        (["--metrics", "nope"], "unknown 'nope'"),
    ],
)
def test_bad_options_are_usage_errors(args: list[str], said: str) -> None:
    code, output = invoke("--api-key", SECRET, "exporter", *args)
    assert code == 2, output
    assert said in output
    assert SECRET not in output


def test_no_key_is_a_usage_error() -> None:
    code, output = invoke("exporter", "--port", "0")
    assert code == 2
    assert "no API key" in output


def test_a_max_age_shorter_than_a_poll_is_a_usage_error() -> None:
    code, output = invoke(
        "--api-key", SECRET, "--url", "http://127.0.0.1:9/api/v0", "exporter", "--port", "0",
        "--max-age", "1m",
    )  # fmt: skip
    assert code == 2, output
    assert "max_age must be a timedelta of at least" in output


def test_a_taken_port_is_one_line() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        code, output = invoke(
            "--api-key", SECRET, "--url", "http://127.0.0.1:9/api/v0", "exporter",
            "--listen", f"127.0.0.1:{port}",
        )  # fmt: skip
    assert code == 1, output
    assert output.strip().splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


def test_a_refused_key_is_one_line_without_the_key() -> None:
    with SimulatorServer(ScoutSimulator(api_key="another-key")) as server:
        code, output = invoke(
            "--api-key", SECRET, "--url", server.url, "exporter", "--port", "0",
        )  # fmt: skip
    assert code == 1, output
    lines = output.strip().splitlines()
    assert lines[0].startswith("exporter: serving http://127.0.0.1:")
    assert lines[-1].startswith("error: the server refused the API key (GET /apps: 403")
    assert SECRET not in output
    assert "Traceback" not in output


def test_the_help_shows_the_defaults_and_examples() -> None:
    code, output = invoke("exporter", "--help")
    assert code == 0
    assert "127.0.0.1:9793" in output
    assert "--max-age" in output
    assert "scout-async exporter --listen 0.0.0.0:9793" in output
    code, output = invoke("--help")
    assert code == 0
    assert "exporter" in output
