"""`SimulatorServer`: the simulator on a real localhost port, served from a background thread."""

from __future__ import annotations

import logging
import socket
import threading
import time
from types import TracebackType

import anyio
import anyio.to_thread
import uvicorn

from ._facts import API_PREFIX
from ._simulator import DroppedConnection, ScoutSimulator

__all__ = ["SimulatorServer", "bind_socket", "quiet_drops"]

_START_TIMEOUT = 10.0


class _NoDrops(logging.Filter):
    """Hide uvicorn's traceback for a deliberate drop: it is the fault working, not a bug."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, DroppedConnection)


_NO_DROPS = _NoDrops()


def quiet_drops() -> None:
    """Install the filter on uvicorn's error logger (once)."""
    logger = logging.getLogger("uvicorn.error")
    if _NO_DROPS not in logger.filters:
        logger.addFilter(_NO_DROPS)


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket; port 0 picks a free port, known before the server starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit this on Linux: without it, Nagle's algorithm holds the
        # body behind the headers until the client's delayed ACK, adding ~40 ms to every answer.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class SimulatorServer:
    """Serve a ``ScoutSimulator`` with uvicorn on ``127.0.0.1`` from a daemon thread.

    Works as a sync and as an async context manager; entering returns once the server accepts
    connections, leaving stops it and joins the thread.

    >>> with SimulatorServer(ScoutSimulator()) as server:
    ...     httpx.get(server.url + "/apps", headers={"X-SCOUT-API": DEFAULT_API_KEY}).status_code
    200
    >>> async with SimulatorServer(sim) as server:
    ...     client = ScoutClient(api_key=DEFAULT_API_KEY, base_url=server.url)
    """

    def __init__(
        self, simulator: ScoutSimulator, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.simulator = simulator
        self.host = host
        self._requested_port = port
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError("the server is not running; enter it first")
        return int(self._socket.getsockname()[1])

    @property
    def url(self) -> str:
        """The base URL a client uses, ``http://127.0.0.1:PORT/api/v0``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{API_PREFIX}"

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Start serving in the background and return without waiting (see ``wait_started``)."""
        if self._thread is not None:
            raise RuntimeError("this SimulatorServer is already running")
        quiet_drops()
        config = uvicorn.Config(
            self.simulator.app,
            log_level="warning",
            log_config=None,  # leave the process's logging alone (pytest, the caller's app)
            access_log=False,
            lifespan="off",
            # A request stuck in a long latency fault must not hold up the test's teardown.
            timeout_graceful_shutdown=1,
        )
        self._socket = bind_socket(self.host, self._requested_port)
        self._server = uvicorn.Server(config)
        self._error = None
        self._thread = threading.Thread(
            target=self._run, name=f"scout-simulator:{self.port}", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        assert self._server is not None
        assert self._socket is not None
        try:
            self._server.run(sockets=[self._socket])
        except BaseException as error:  # reported to the thread that waits for the start
            self._error = error

    def _startup_state(self) -> bool:
        """True once serving; raises if the thread died before that."""
        assert self._server is not None
        assert self._thread is not None
        if self._server.started:
            return True
        if not self._thread.is_alive():
            raise RuntimeError("the simulator server failed to start") from self._error
        return False

    def wait_started(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._startup_state():
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError("the simulator server did not start in time")
            time.sleep(0.005)

    def stop(self) -> None:
        """Ask the server to exit and wait for its thread."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = None
        self._socket = None

    def __enter__(self) -> SimulatorServer:
        self.start()
        self.wait_started()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> SimulatorServer:
        self.start()
        deadline = anyio.current_time() + _START_TIMEOUT
        # Poll with anyio.sleep so the caller's event loop keeps running meanwhile.
        while not self._startup_state():
            if anyio.current_time() > deadline:
                await anyio.to_thread.run_sync(self.stop)
                raise TimeoutError("the simulator server did not start in time")
            await anyio.sleep(0.005)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await anyio.to_thread.run_sync(self.stop)
