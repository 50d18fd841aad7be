"""The Lambda Runtime API, served to one runtime process (awslambdaric) on a loopback port.

The executor hands an invocation to `submit`, the runtime picks it up with `GET .../invocation/next` and posts
the outcome to `.../{id}/response` or `.../{id}/error`; a runtime that fails before its first `next` posts to
`/init/error`. This module imports nothing from LocalStack, so it can be tested with a plain HTTP client.
One server lives exactly as long as one runtime process: a new process gets a new server, so a `next` left
blocked by a killed process can never take an invocation meant for its successor.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01/runtime"
NEXT_PATH = f"{PREFIX}/invocation/next"
INIT_ERROR_PATH = f"{PREFIX}/init/error"
_OUTCOME_PATH = re.compile(rf"^{PREFIX}/invocation/(?P<request_id>[^/]+)/(?P<outcome>response|error)$")
_POLL_S = 0.05


@dataclass(frozen=True)
class Invocation:
    """One event as the runtime receives it from `next` (body plus the Lambda-Runtime-* headers)."""

    request_id: str
    payload: bytes
    deadline_ms: int
    function_arn: str
    trace_id: str

    def headers(self) -> dict[str, str]:
        """The headers AWS sends with `next`."""
        return {
            "Lambda-Runtime-Aws-Request-Id": self.request_id,
            "Lambda-Runtime-Deadline-Ms": str(self.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": self.function_arn,
            "Lambda-Runtime-Trace-Id": self.trace_id,
            "Content-Type": "application/json",
        }


@dataclass(frozen=True)
class Outcome:
    """What the runtime posted for one invocation: the body, and whether it came to `/error`."""

    payload: bytes
    is_error: bool


class RuntimeApiServer:
    """A threaded HTTP server speaking the Runtime API for a single runtime process."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._cond = threading.Condition()
        self._pending: Invocation | None = None
        self._outcomes: dict[str, Outcome] = {}
        self._closed = False
        self.ready = threading.Event()
        self.init_error: bytes | None = None
        self._httpd = _Server((host, 0), _Handler)
        self._httpd.api = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="lambda-runtime-api", daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        """`host:port`, the value for AWS_LAMBDA_RUNTIME_API."""
        host, port = self._httpd.server_address[:2]
        return f"{host}:{port}"

    def submit(self, invocation: Invocation) -> None:
        """Offer an invocation to the runtime's next (or current, blocked) `next` call."""
        with self._cond:
            self._pending = invocation
            self._cond.notify_all()

    def wait_outcome(self, request_id: str, timeout_s: float, alive: Callable[[], bool]) -> Outcome | None:
        """Wait for the runtime's answer; None when `timeout_s` passes or `alive()` turns false first."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while request_id not in self._outcomes:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed or not alive():
                    return None
                self._cond.wait(min(remaining, _POLL_S))
            return self._outcomes.pop(request_id)

    def close(self) -> None:
        """Stop serving; a blocked `next` returns without an invocation."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._httpd.shutdown()
        self._httpd.server_close()

    # Called from the request handler threads.

    def _take_next(self) -> Invocation | None:
        self.ready.set()
        with self._cond:
            while self._pending is None and not self._closed:
                self._cond.wait(_POLL_S * 10)
            invocation, self._pending = self._pending, None
            return invocation

    def _record(self, request_id: str, outcome: Outcome) -> None:
        with self._cond:
            self._outcomes[request_id] = outcome
            self._cond.notify_all()

    def _record_init_error(self, payload: bytes) -> None:
        with self._cond:
            self.init_error = payload
            self._cond.notify_all()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    api: RuntimeApiServer

    def handle_error(self, request: object, client_address: object) -> None:
        """A runtime killed mid-request (a timeout) resets its connection; that is expected, not an error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes; Nagle would hold the body ~40 ms
    server: _Server

    def do_GET(self) -> None:
        if self.path != NEXT_PATH:
            self._reply(HTTPStatus.NOT_FOUND, b'{"errorType":"NotFound"}')
            return
        invocation = self.server.api._take_next()
        if invocation is None:
            self._reply(HTTPStatus.GONE, b'{"errorType":"ShuttingDown"}')
            return
        self._reply(HTTPStatus.OK, invocation.payload, invocation.headers())

    def do_POST(self) -> None:
        body = self._body()
        match = _OUTCOME_PATH.match(self.path)
        if match:
            self.server.api._record(match["request_id"], Outcome(payload=body, is_error=match["outcome"] == "error"))
        elif self.path == INIT_ERROR_PATH:
            self.server.api._record_init_error(body)
        else:
            self._reply(HTTPStatus.NOT_FOUND, b'{"errorType":"NotFound"}')
            return
        self._reply(HTTPStatus.ACCEPTED, b'{"status":"OK"}')

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))
        chunks = []
        while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        self.rfile.readline()
        return b"".join(chunks)

    def _reply(self, status: HTTPStatus, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {"Content-Type": "application/json"}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Silence the per-request access log (LocalStack's own log stays readable)."""
