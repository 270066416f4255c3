"""``exporter``: serve Scout's metrics to Prometheus, polled every ``--every``.

The work is the library's ``scout_async.exporters.ScoutExporter`` (``serve``): a background poll
keeps each app x metric's newest complete bucket in memory, and ``/metrics`` answers from there.
This command reads the options, says where it listens, and stops cleanly on Ctrl-C or SIGTERM
(exit 0). It needs the prometheus extra, imported only when the command runs, so the rest of the
command line works without it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import anyio
import attrs
import click

from ..._series.steps import format_step
from ...exporters._defaults import DEFAULT_HOST, DEFAULT_INTERVAL, DEFAULT_PORT
from ..context import CliError, Settings, pass_settings, stderr_console
from ..options import DURATION, DURATION_OR_ZERO, RESOLUTION, Ids, Names, selection_options
from ..stop import run_loop, run_until_signalled

__all__ = ["exporter", "parse_listen"]


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[IPv6]:PORT`` or ``:PORT`` (every interface) as ``(host, port)``;
    ``ValueError`` with the reason otherwise."""
    host, sep, port_text = text.strip().rpartition(":")
    if not sep or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(
            f"{text!r} is not HOST:PORT (a port from 0 to 65535): give 127.0.0.1:{DEFAULT_PORT}, "
            f"0.0.0.0:{DEFAULT_PORT}, [::1]:{DEFAULT_PORT} or :{DEFAULT_PORT}"
        )
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise ValueError(f"{text!r}: put an IPv6 address in brackets, as [{host}]:{port_text}")
    return host or "0.0.0.0", int(port_text)


if TYPE_CHECKING:
    from ...exporters import ScoutExporter

if TYPE_CHECKING:  # generic in click >= 8.2 only: subscript it for the type checker alone
    _ParamType = click.ParamType[Any, Any]
else:
    _ParamType = click.ParamType


class _Listen(_ParamType):
    name = "HOST:PORT"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[str, int]:
        if isinstance(value, tuple):
            return value
        try:
            return parse_listen(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


@attrs.frozen
class _Options:
    host: str
    port: int
    apps: Ids
    metrics: Names
    every: timedelta
    step: timedelta
    lateness: timedelta
    max_age: timedelta | None


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/metrics"


def _exporter_class() -> type[ScoutExporter]:
    try:
        from ...exporters import ScoutExporter
    except ImportError as exc:  # the prometheus extra is missing: one line says which
        raise CliError(str(exc)) from None
    return ScoutExporter


async def _run(
    settings: Settings, options: _Options, exporter_class: type[ScoutExporter]
) -> str | None:
    async with settings.client() as client:
        exporter = exporter_class(
            client,
            apps="all" if options.apps == "all" else list(options.apps),
            metrics="all" if options.metrics == "all" else list(options.metrics),
            interval=options.every,
            resolution=options.step,
            lateness=options.lateness,
            max_age=options.max_age,
        )

        async def work() -> None:
            refused: OSError | None = None
            async with anyio.create_task_group() as tg:
                try:
                    host, port = await tg.start(exporter.serve, options.host, options.port)
                except OSError as exc:  # the address is taken, or not this machine's
                    refused = exc
                else:
                    _announce(host, port, options, exporter.max_age)
            if refused is not None:
                raise CliError(
                    f"cannot listen on {options.host}:{options.port}: {refused.strerror or refused}"
                )

        _, signalled = await run_until_signalled(work)
    return signalled


def _announce(host: str, port: int, options: _Options, max_age: timedelta) -> None:
    apps = "all apps" if options.apps == "all" else f"apps {_ids(options.apps)}"
    metrics = "all metrics" if options.metrics == "all" else ",".join(options.metrics)
    stderr_console().print(
        f"exporter: serving {_url(host, port)} (also /healthz, /readyz); polling {apps}, "
        f"{metrics}, every {format_step(options.every)} at {format_step(options.step)}; values "
        f"older than {format_step(max_age)} are dropped",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def _ids(ids: Ids) -> str:
    return "all" if ids == "all" else ",".join(str(app_id) for app_id in ids)


EPILOG = f"""\b
Examples:
  scout-async exporter                     # all apps and metrics on {DEFAULT_HOST}:{DEFAULT_PORT}
  scout-async exporter --listen 0.0.0.0:{DEFAULT_PORT}    # in a container
  scout-async exporter --port 9900 --apps 101,102 --metrics response_time,throughput
  curl -s localhost:{DEFAULT_PORT}/metrics | grep scout_app_response_time_seconds
"""


@click.command(epilog=EPILOG)
@click.option(
    "--listen",
    type=_Listen(),
    default=None,
    metavar="HOST:PORT",
    help=f"Address to serve /metrics, /healthz and /readyz on; :PORT is every interface.  "
    f"[default: {DEFAULT_HOST}:{DEFAULT_PORT}]",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help=f"Port on {DEFAULT_HOST} (instead of --listen); 0 picks a free one.",
)
@selection_options("all (listed when the exporter starts)")
@click.option(
    "--every",
    type=DURATION,
    default=f"{int(DEFAULT_INTERVAL.total_seconds() // 60)}m",
    show_default=True,
    help="How often to poll Scout for the newly completed buckets.",
)
@click.option(
    "--resolution",
    type=RESOLUTION,
    default="1m",
    show_default=True,
    help="Step of every series: the length of the bucket each value stands for.",
)
@click.option(
    "--lateness",
    type=DURATION_OR_ZERO,
    default="2m",
    show_default=True,
    help="A bucket is complete, and exported, once it ended this long ago (agents report late).",
)
@click.option(
    "--max-age",
    type=DURATION,
    default=None,
    help="Stop exporting a value whose bucket ended longer ago than this (an app that keeps "
    "failing or stopped reporting).  [default: lateness + resolution + 3 polls]",
)
@pass_settings
def exporter(
    settings: Settings,
    listen: tuple[str, int] | None,
    port: int | None,
    apps: Ids,
    metrics: Names,
    every: timedelta,
    resolution: timedelta,
    lateness: timedelta,
    max_age: timedelta | None,
) -> None:
    """Serve Scout's metrics to Prometheus: each app x metric's newest complete bucket.

    Every --every it polls Scout for the buckets completed since (one request per series,
    fairly across apps) and keeps the newest value of each in memory; /metrics answers from
    there at once and never waits on Scout. Values are gauges in Prometheus' base units
    (scout_app_response_time_seconds, scout_app_throughput_requests_per_second, ...) labelled
    app_id, app_name and metric; scout_exporter_* tell polls, errors per app, requests, retries,
    429s and the last successful poll of each series. A failing app is marked stale
    (scout_exporter_series_stale) and its values dropped after --max-age; a 429 pauses every
    request. Stop it with Ctrl-C or SIGTERM (exit 0).
    """
    if listen is not None and port is not None:
        raise click.UsageError("give --listen HOST:PORT or --port PORT, not both")
    exporter_class = _exporter_class()
    settings.require_key()
    host, chosen = listen if listen is not None else (DEFAULT_HOST, DEFAULT_PORT)
    options = _Options(
        host=host,
        port=port if port is not None else chosen,
        apps=apps,
        metrics=metrics,
        every=every,
        step=resolution,
        lateness=lateness,
        max_age=max_age,
    )
    signalled = run_loop(lambda: _run(settings, options, exporter_class))
    if signalled is not None:
        stderr_console().print(
            f"exporter stopped ({signalled})", markup=False, highlight=False, soft_wrap=True
        )
