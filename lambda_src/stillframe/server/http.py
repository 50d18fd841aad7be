"""The threaded HTTP server behind ``stillframe serve``: one proxy-handler invocation per request, a clean stop.

The server holds the connections (at most ``max_connections``; over TLS the handshake is made on the connection's
own thread), the pool the handler runs on and the admission of requests to it, and knows which connections are
idle, so that ``stop`` can close those and let busy ones finish. What happens to each request on a connection is
``request_handler``. Limits: ``limits``.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from http.server import ThreadingHTTPServer
from typing import Any

from stillframe.server import wire
from stillframe.server.browsers import BrowserPolicy
from stillframe.server.context import ServerConfig
from stillframe.server.gate import RequestGate
from stillframe.server.limits import Admission, ServerLimits, release_memory
from stillframe.server.request_handler import RequestHandler, limit_exceeded, shutdown_reads

# The package's name, not this module's: the CLI's log setup and anyone filtering logs know the server by it.
logger = logging.getLogger("stillframe.server")

ProxyHandler = Callable[[dict[str, Any], Any], Mapping[str, Any]]
"""``lambda_handler(event, context) -> proxy response dict``."""

IDLE_TIMEOUT_S = ServerLimits.idle_timeout_s  # keep-alive connections with no request for this long are closed
TRIM_AFTER_IDLE_S = 1.0  # freed memory goes back to the system once the server has been idle this long


class StillframeServer(ThreadingHTTPServer):
    """A threaded HTTP server that hands every request to a proxy handler, within limits, and stops cleanly."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: ProxyHandler,
        *,
        config: ServerConfig | None = None,
        gate: RequestGate | None = None,
        limits: ServerLimits | None = None,
        tls: ssl.SSLContext | None = None,
        browsers: BrowserPolicy | None = None,
    ):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.limits = limits or ServerLimits()
        self.request_queue_size = self.limits.listen_backlog  # listen(); the default of 5 drops bursts
        super().__init__(address, RequestHandler)
        self.tls = tls
        if tls is not None:
            # The handshake waits for the connection's own thread (``RequestHandler.setup``), within the header
            # timeout: done in accept(), one silent client would hold up every other.
            self.socket = tls.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)
        self.proxy_handler = handler
        self.config = config or ServerConfig()
        self.gate = gate or RequestGate()
        # Without a policy: loopback names and addresses only, and every origin once a signature is required.
        self.browsers = browsers or BrowserPolicy(authenticated=self.gate.verifier is not None)
        self.admission = Admission(self.limits.max_concurrent_requests, self.limits.max_queued_requests)
        self.playback_admission = Admission(self.limits.playback_slots, self.limits.max_queued_requests)
        self.pool = ThreadPoolExecutor(self.limits.max_concurrent_requests, thread_name_prefix="stillframe-handler")
        self._lock = threading.Lock()
        self._busy: dict[socket.socket, bool] = {}
        self._open = 0
        self._trimmed = True
        self.stopping = False

    @property
    def scheme(self) -> str:
        """``https`` when serving TLS, else ``http``."""
        return "http" if self.tls is None else "https"

    @property
    def url(self) -> str:
        """``http(s)://host:port`` with the port actually bound (useful with port 0)."""
        host, port = self.server_address[:2]
        host = str(host)
        return f"{self.scheme}://[{host}]:{port}" if ":" in host else f"{self.scheme}://{host}:{port}"

    def stop(self) -> None:
        """Stop accepting, let in-flight requests finish, close idle keep-alive connections, join workers.

        Call from a thread other than the one running ``serve_forever``.
        """
        self.shutdown()
        with self._lock:
            self.stopping = True
            idle = [conn for conn, busy in self._busy.items() if not busy]
        for conn in idle:
            shutdown_reads(conn)  # the worker's blocking read returns EOF and the worker ends
        self.server_close()  # joins worker threads
        self.pool.shutdown(wait=True)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve the connection on its own thread, or refuse it at once when ``max_connections`` are open."""
        with self._lock:
            full = self._open >= self.limits.max_connections
            self._open += 1
        if not full:
            super().process_request(request, client_address)
            return
        reason = f"this server holds at most {self.limits.max_connections} connections"
        status, headers, payload = limit_exceeded(reason, str(uuid.uuid4()))
        if self.tls is None:  # over TLS an answer needs a handshake, on this accept thread: the connection just closes
            with contextlib.suppress(OSError):
                request.settimeout(1.0)
                request.sendall(wire.head_block(status, headers, len(payload), close=True) + payload)
        self.shutdown_request(request)

    def shutdown_request(self, request: Any) -> None:
        with self._lock:
            self._open -= 1
        super().shutdown_request(request)

    def service_actions(self) -> None:
        """Between polls of the accept loop: give freed memory back once a burst is over."""
        quiet_s = time.monotonic() - self.admission.last_busy
        if not self._trimmed and quiet_s > TRIM_AFTER_IDLE_S and self.admission.idle:
            self._trimmed = True
            release_memory()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log a failed connection: one line for a client that went away, a traceback for anything else."""
        error = sys.exc_info()[1]
        if isinstance(error, ssl.SSLError):
            # Plain HTTP sent to the HTTPS port, or a client that does not trust the certificate.
            logger.info("TLS handshake failed", extra={"client": str(client_address), "reason": error.reason})
        elif isinstance(error, ConnectionError | TimeoutError):
            logger.info("client connection dropped", extra={"client": str(client_address)})
        else:
            logger.exception("connection failed", extra={"client": str(client_address)})

    def track(self, conn: socket.socket, *, busy: bool) -> None:
        """Record whether a connection is serving a request (busy) or waiting for one (idle)."""
        with self._lock:
            self._busy[conn] = busy
            late_idle = self.stopping and not busy
        if late_idle:
            shutdown_reads(conn)

    def forget(self, conn: socket.socket) -> None:
        """Drop a closed connection from the books."""
        with self._lock:
            self._busy.pop(conn, None)

    def run_inline(self, event: dict[str, Any], context: Any) -> Mapping[str, Any]:
        """The proxy handler's answer, computed on the calling (connection) thread: a PutMedia session lasts as long
        as its producer and must not hold one of the pool's request slots."""
        return self.proxy_handler(event, context)

    def run_handler(self, event: dict[str, Any], context: Any) -> Mapping[str, Any]:
        """The proxy handler's answer, computed on the pool (its threads hold the large allocations of a page)."""
        self._trimmed = False
        return self.pool.submit(self.proxy_handler, event, context).result()
