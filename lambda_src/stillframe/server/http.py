"""The threaded HTTP server behind ``stillframe serve``: one proxy-handler invocation per request, a clean stop.

An optional gate (throttling, SigV4 auth) may refuse a request before the handler sees it, as API Gateway does.
Anything escaping the handler becomes a 500 in the AWS error shape, with the traceback only in the server log.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from stillframe.access.sigv4 import SignedRequest
from stillframe.server.context import ServerConfig, invocation_context
from stillframe.server.events import build_event, decode_response, error_response
from stillframe.server.gate import RequestGate

# The package's name, not this module's: the CLI's log setup and anyone filtering logs know the server by it.
logger = logging.getLogger("stillframe.server")

ProxyHandler = Callable[[dict[str, Any], Any], Mapping[str, Any]]
"""``lambda_handler(event, context) -> proxy response dict``."""

IDLE_TIMEOUT_S = 60  # keep-alive connections with no request for this long are closed


class StillframeServer(ThreadingHTTPServer):
    """A threaded HTTP server that hands every request to a proxy handler, and stops cleanly."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: ProxyHandler,
        *,
        config: ServerConfig | None = None,
        gate: RequestGate | None = None,
    ):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _RequestHandler)
        self.proxy_handler = handler
        self.config = config or ServerConfig()
        self.gate = gate or RequestGate()
        self._lock = threading.Lock()
        self._busy: dict[socket.socket, bool] = {}
        self.stopping = False

    @property
    def url(self) -> str:
        """``http://host:port`` with the port actually bound (useful with port 0)."""
        host, port = self.server_address[:2]
        host = str(host)
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def stop(self) -> None:
        """Stop accepting, let in-flight requests finish, close idle keep-alive connections, join workers.

        Call from a thread other than the one running ``serve_forever``.
        """
        self.shutdown()
        with self._lock:
            self.stopping = True
            idle = [conn for conn, busy in self._busy.items() if not busy]
        for conn in idle:
            _shutdown_reads(conn)  # the worker's blocking read returns EOF and the worker ends
        self.server_close()  # joins worker threads

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log a failed connection: one line for a client that went away, a traceback for anything else."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            logger.info("client connection dropped", extra={"client": str(client_address)})
        else:
            logger.exception("connection failed", extra={"client": str(client_address)})

    def track(self, conn: socket.socket, *, busy: bool) -> None:
        """Record whether a connection is serving a request (busy) or waiting for one (idle)."""
        with self._lock:
            self._busy[conn] = busy
            late_idle = self.stopping and not busy
        if late_idle:
            _shutdown_reads(conn)

    def forget(self, conn: socket.socket) -> None:
        """Drop a closed connection from the books."""
        with self._lock:
            self._busy.pop(conn, None)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as SDK clients expect
    timeout = IDLE_TIMEOUT_S
    server: StillframeServer
    _unread_body = False

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, busy=False)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.forget(self.connection)

    def handle_expect_100(self) -> bool:
        # Refuse an oversized body before the client sends it.
        if self._declared_length() <= self.server.config.max_body_bytes:
            return super().handle_expect_100()
        started = time.perf_counter()
        self.close_connection = True
        status, headers, payload = self._too_large(str(uuid.uuid4()))
        self._respond(status, headers, payload, head_only=False)
        self._log(status, len(payload), started)
        return False

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # one structured line per request is written by _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("http server message", extra={"detail": format % args})

    def _dispatch(self) -> None:
        started = time.perf_counter()
        self.server.track(self.connection, busy=True)
        try:
            status, headers, payload = self._serve_one()
            if self.server.stopping:
                self.close_connection = True
            self._respond(status, headers, payload, head_only=self.command == "HEAD")
        finally:
            self.server.track(self.connection, busy=False)
        self._log(status, len(payload), started)
        if self._unread_body:
            _linger(self.connection)

    def _log(self, status: int, size: int, started: float) -> None:
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        path = self.path.split("?", 1)[0]
        logger.info(
            "request", extra={"method": self.command, "path": path, "status": status, "bytes": size, "ms": elapsed_ms}
        )

    def _serve_one(self) -> tuple[int, list[tuple[str, str]], bytes]:
        request_id = str(uuid.uuid4())
        try:
            body = self._read_body()
        except _BodyTooLarge:
            self.close_connection = self._unread_body = True
            return self._too_large(request_id)
        except ValueError as exc:
            self.close_connection = True
            return error_response(400, "InvalidArgumentException", f"Malformed request body: {exc}", request_id)
        # Checked once the body is read: the signature covers it, and the connection stays usable after a refusal.
        refusal = self.server.gate.check(SignedRequest(self.command, self.path, list(self.headers.items()), body))
        if refusal is not None:
            return error_response(refusal.status, refusal.error.code, refusal.error.message, request_id)
        return self._invoke(body, request_id)

    def _invoke(self, body: bytes | None, request_id: str) -> tuple[int, list[tuple[str, str]], bytes]:
        config = self.server.config
        headers = list(self.headers.items())
        if self.headers.get("Host") is None:
            headers.append(("Host", self.server.url.split("://", 1)[1]))
        event = build_event(
            method=self.command,
            target=self.path,
            headers=headers,
            body=body,
            source_ip=self.client_address[0],
            request_id=request_id,
            protocol=self.request_version,
            account_id=config.account_id,
        )
        context = invocation_context(request_id, config)
        try:
            return decode_response(self.server.proxy_handler(event, context))
        except Exception:
            logger.exception("handler failed", extra={"request_id": request_id, "path": event["path"]})
            message = "The service hit an internal error; the server log has details."
            return error_response(500, "InternalFailure", message, request_id)

    def _too_large(self, request_id: str) -> tuple[int, list[tuple[str, str]], bytes]:
        limit = self.server.config.max_body_bytes
        message = f"Request body is larger than the limit of {limit} bytes."
        return error_response(413, "InvalidArgumentException", message, request_id)

    def _declared_length(self) -> int:
        raw = self.headers.get("Content-Length")
        try:
            return int(raw) if raw else 0
        except ValueError:
            return 0  # _read_body reports the malformed header

    def _read_body(self) -> bytes | None:
        limit = self.server.config.max_body_bytes
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return _read_chunked(self.rfile, limit)
        raw = self.headers.get("Content-Length")
        if raw is None:
            return None
        if not raw.strip().isdigit():
            raise ValueError(f"Content-Length {raw!r} is not a number")
        length = int(raw)
        if length > limit:
            raise _BodyTooLarge
        return self.rfile.read(length) if length else None

    def _respond(self, status: int, headers: list[tuple[str, str]], payload: bytes, *, head_only: bool) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not head_only:
            self.wfile.write(payload)


class _BodyTooLarge(Exception):
    pass


def _read_chunked(rfile: Any, limit: int) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        size = int(rfile.readline(1024).split(b";", 1)[0].strip() or b"x", 16)  # ValueError on junk
        if size == 0:
            while rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                pass  # trailers carry nothing the handler needs
            return b"".join(parts)
        total += size
        if total > limit:
            raise _BodyTooLarge
        parts.append(rfile.read(size))
        rfile.readline(16)


def _linger(conn: socket.socket, max_bytes: int = 256 * 1024 * 1024, idle_s: float = 1.0) -> None:
    """Read and drop what the client is still sending, so closing does not reset the connection.

    A close with unread data makes the kernel send RST, and the client may lose the 413 it was sent.
    """
    try:
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(idle_s)
        drained = 0
        while drained < max_bytes:
            block = conn.recv(65536)
            if not block:
                return
            drained += len(block)
    except OSError:
        pass  # timeout or reset: the client had its chance to read the answer


def _shutdown_reads(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by the client
        conn.shutdown(socket.SHUT_RD)
