"""A bare HTTP/1.1 server on a localhost thread, for what the simulator cannot do to a connection:
close it while idle, reset it with an RST once reused, answer with a redirect. It answers every
request with one fixed body and keeps connections alive unless told otherwise."""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
from types import TracebackType

from tests.conftest import envelope

APPS = json.dumps(envelope({"apps": [{"id": 101, "name": "shop"}]})).encode()


class RawServer:
    """``close_idle()`` closes every kept-alive connection waiting for its next request (a FIN,
    as a server's keep-alive timeout does). ``close_after_answer``: close every
    connection right after its answer, without saying ``Connection: close``. ``resets``: how
    many requests that arrive on a reused connection get an RST instead of an answer. ``stalls``:
    how many requests get their headers and half their body, then nothing more (the connection
    stays open until the client gives it up). ``redirect_to``: answer every request with 302 to
    this URL. ``answer``: send these bytes as every answer (a malformed one)."""

    def __init__(
        self,
        *,
        close_after_answer: bool = False,
        resets: int = 0,
        stalls: int = 0,
        redirect_to: str | None = None,
        answer: bytes | None = None,
    ) -> None:
        self.close_after_answer = close_after_answer
        self.resets_left = resets
        self.stalls_left = stalls
        self.stalled = 0
        self.redirect_to = redirect_to
        self.raw_answer = answer
        self.requests = 0
        self.targets: list[str] = []  # each request's target, as it came
        self.connections = 0
        self.resets_sent = 0
        self.idle_closes = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._open: set[socket.socket] = set()
        self._idle: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/api/v0"

    def __enter__(self) -> RawServer:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping.set()
        with self._lock:
            for conn in list(self._open):
                # shutdown wakes the thread blocked in recv on it; close alone may not.
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            thread.join(timeout=10)
        self._listener.close()

    def close_idle(self) -> int:
        """Close every connection that answered and waits for its next request (the FIN goes
        out now); how many. Call it while the client sends nothing."""
        with self._lock:
            idle = list(self._idle)
            self._idle.clear()
            for conn in idle:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            self.idle_closes += len(idle)
        return len(idle)

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:  # pragma: no cover - the listener closed under us
                return
            with self._lock:
                self.connections += 1
                self._open.add(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        served = 0
        buffer = b""
        try:
            while not self._stopping.is_set():
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(65536)
                    with self._lock:
                        self._idle.discard(conn)
                    if not chunk:
                        return
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                buffer = buffer[_content_length(head) :]  # a body (auth="body") is not read
                with self._lock:
                    self.requests += 1
                    self.targets.append(head.split(b" ", 2)[1].decode("latin-1"))
                    reset = served > 0 and self.resets_left > 0
                    if reset:
                        self.resets_left -= 1
                        self.resets_sent += 1
                    stall = not reset and self.stalls_left > 0
                    if stall:
                        self.stalls_left -= 1
                if stall:
                    answer = self._answer()
                    conn.sendall(answer[: len(answer) - len(APPS) // 2])
                    with self._lock:
                        self.stalled += 1
                    conn.settimeout(None)
                    while conn.recv(65536):  # until the client hangs up (or the server stops)
                        pass
                    return
                if reset:
                    # SO_LINGER 0: close() sends an RST, not a FIN.
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                if not self.close_after_answer:
                    # Idle once the answer is out (marked before: the client may have it, and
                    # call close_idle, before this thread runs again).
                    with self._lock:
                        self._idle.add(conn)
                conn.sendall(self._answer())
                served += 1
                if self.close_after_answer:
                    return
        except OSError:
            return
        finally:
            with self._lock:
                self._open.discard(conn)
            _close(conn)

    def _answer(self) -> bytes:
        if self.raw_answer is not None:
            return self.raw_answer
        if self.redirect_to is not None:
            return (
                f"HTTP/1.1 302 Found\r\nLocation: {self.redirect_to}\r\nContent-Length: 0\r\n\r\n"
            ).encode()
        return (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(APPS)}\r\n\r\n".encode()
            + APPS
        )


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


def _close(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        conn.close()
