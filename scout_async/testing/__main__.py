"""Run the Scout API simulator on a local port.

    python -m scout_async.testing [--host 127.0.0.1] [--port 0] [--api-key KEY] [--latency S]

Prints one line on stdout, the base URL (``http://127.0.0.1:PORT/api/v0``), and on stderr the two
``export`` lines that point ``scout-async`` at it; then serves until interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import _EXTRA_PACKAGES, _MISSING_EXTRA

try:
    import uvicorn

    from ._server import bind_socket, quiet_drops
    from ._simulator import ScoutSimulator
except ModuleNotFoundError as exc:
    if (exc.name or "").split(".")[0] not in _EXTRA_PACKAGES:
        raise
    sys.exit(f"error: {_MISSING_EXTRA}")

from ._facts import API_PREFIX, DEFAULT_API_KEY


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scout_async.testing",
        description="Serve a simulated Scout APM API and print its base URL.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one")
    parser.add_argument(
        "--api-key", default=DEFAULT_API_KEY, help=f"accepted key ({DEFAULT_API_KEY})"
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to each request")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic data")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    simulator = ScoutSimulator(api_key=args.api_key, latency=args.latency, seed=args.seed)
    # Bind (and listen) before printing, so whoever reads the URL can connect at once.
    sock = bind_socket(args.host, args.port)
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{sock.getsockname()[1]}{API_PREFIX}"
    print(url, flush=True)
    # For people: how to point the command line at it (stdout stays the URL alone, for scripts).
    sys.stderr.write(
        "Scout API simulator running (Ctrl-C to stop). In another shell:\n"
        f"export SCOUT_API_URL={url}\n"
        f"export SCOUT_API_KEY={args.api_key}\n"
    )
    sys.stderr.flush()
    # stdout carries only the URL: no access log, and warnings go to stderr.
    config = uvicorn.Config(simulator.app, log_level="warning", access_log=False, lifespan="off")
    quiet_drops()  # after Config, which applies uvicorn's logging setup
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
