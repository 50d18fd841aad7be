"""The HTTP front door of ``stillframe serve``: each request becomes an API Gateway REST proxy event.

The handler cannot tell this server from API Gateway: same event shape, same response dict, binary bodies
base64-encoded with ``isBase64Encoded`` as API Gateway does for binary media types. Anything escaping the handler
becomes a 500 in the AWS error shape, with the traceback only in the server log.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote

logger = logging.getLogger(__name__)

ProxyHandler = Callable[[dict[str, Any], Any], Mapping[str, Any]]
"""``lambda_handler(event, context) -> proxy response dict``."""

DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
DEADLINE_MARGIN_MS = 5_000  # the handler's own time budget stops work first; this is Lambda's hard timeout
IDLE_TIMEOUT_S = 60  # keep-alive connections with no request for this long are closed
_TEXT_TYPES = ("application/json", "application/xml", "application/x-www-form-urlencoded", "application/javascript")
_MANAGED_HEADERS = {"content-length", "transfer-encoding", "connection"}


@dataclass(frozen=True)
class ServerConfig:
    """Limits and identity of the local 'Lambda'."""

    time_budget_ms: int = 25_000
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    region: str = "us-east-1"
    account_id: str = "000000000000"


@dataclass
class LocalLambdaContext:
    """What a Lambda context offers the handler (Powertools reads these attributes)."""

    aws_request_id: str
    deadline: float  # time.monotonic() when Lambda would kill the invocation
    invoked_function_arn: str
    function_name: str = "stillframe-local"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 2048
    log_group_name: str = "/aws/lambda/stillframe-local"
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the per-request deadline (never negative)."""
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def is_text_type(content_type: str) -> bool:
    """True for bodies API Gateway passes as text (JSON, XML, forms, ``text/*``); all else is binary."""
    main = content_type.split(";", 1)[0].strip().lower()
    return (
        main.startswith("text/")
        or main in _TEXT_TYPES
        or main.endswith("+json")
        or main.startswith("application/x-amz-json")
    )


def build_event(
    *,
    method: str,
    target: str,
    headers: Iterable[tuple[str, str]],
    body: bytes | None,
    source_ip: str,
    request_id: str,
    protocol: str = "HTTP/1.1",
    account_id: str = "000000000000",
    now_ms: int | None = None,
) -> dict[str, Any]:
    """The API Gateway REST proxy event for one HTTP request (no stage prefix: resource == path)."""
    raw_path, _, query = target.partition("?")
    path = unquote(raw_path) or "/"
    single, multi = _header_maps(headers)
    if not _get(single, "X-Forwarded-Proto"):
        # API Gateway sets it; the handler builds its own base URL from it and Host.
        single["X-Forwarded-Proto"] = "http"
        multi["X-Forwarded-Proto"] = ["http"]
    pairs = parse_qsl(query, keep_blank_values=True)
    text_body, is_base64 = _event_body(body, _get(single, "Content-Type"))
    host = _get(single, "Host")
    epoch_ms = int(time.time() * 1000) if now_ms is None else now_ms
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": single,
        "multiValueHeaders": multi,
        "queryStringParameters": dict(pairs) or None,
        "multiValueQueryStringParameters": _multi(pairs) or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": account_id,
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0],
            "extendedRequestId": request_id,
            "httpMethod": method,
            "identity": {"sourceIp": source_ip, "userAgent": _get(single, "User-Agent")},
            "path": path,
            "protocol": protocol,
            "requestId": request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(epoch_ms / 1000)),
            "requestTimeEpoch": epoch_ms,
            "resourceId": "local",
            "resourcePath": path,
            "stage": "local",
        },
        "body": text_body,
        "isBase64Encoded": is_base64,
    }


def decode_response(response: Mapping[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, header pairs and body bytes of a proxy response, merging headers as API Gateway does."""
    status = int(response["statusCode"])
    multi: Mapping[str, list[Any]] = response.get("multiValueHeaders") or {}
    pairs = [(name, str(value)) for name, values in multi.items() for value in values]
    present = {(name.lower(), value) for name, value in pairs}
    for name, value in (response.get("headers") or {}).items():
        if (name.lower(), str(value)) not in present:
            pairs.append((name, str(value)))
    pairs = [(name, value) for name, value in pairs if name.lower() not in _MANAGED_HEADERS]
    body = response.get("body") or ""
    payload = base64.b64decode(body) if response.get("isBase64Encoded") else str(body).encode("utf-8")
    return status, pairs, payload


def error_response(status: int, code: str, message: str, request_id: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """A response in the AWS rest-json error shape (what boto3 turns into a modeled exception)."""
    headers = [
        ("Content-Type", "application/json"),
        ("x-amzn-ErrorType", code),
        ("x-amzn-RequestId", request_id),
    ]
    return status, headers, json.dumps({"__type": code, "message": message}).encode("utf-8")


class StillframeServer(ThreadingHTTPServer):
    """A threaded HTTP server that hands every request to a proxy handler, and stops cleanly."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: ProxyHandler, *, config: ServerConfig | None = None):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _RequestHandler)
        self.proxy_handler = handler
        self.config = config or ServerConfig()
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
        context = LocalLambdaContext(
            aws_request_id=request_id,
            deadline=time.monotonic() + (config.time_budget_ms + DEADLINE_MARGIN_MS) / 1000,
            invoked_function_arn=f"arn:aws:lambda:{config.region}:{config.account_id}:function:stillframe-local",
        )
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


def _header_maps(headers: Iterable[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in headers:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return single, multi


def _get(headers: Mapping[str, str], name: str) -> str:
    lowered = name.lower()
    return next((value for key, value in headers.items() if key.lower() == lowered), "")


def _multi(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


def _event_body(body: bytes | None, content_type: str) -> tuple[str | None, bool]:
    if body is None:
        return None, False
    if is_text_type(content_type):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass  # declared text but is not: pass it on losslessly
    return base64.b64encode(body).decode("ascii"), True
