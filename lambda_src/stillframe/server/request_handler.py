"""One connection's requests in ``stillframe serve``: each read, checked and answered in turn.

What a request passes, in order: framing and size (from the headers), the gate's header-only checks (throttling,
the signature's form and date), a slot among ``max_concurrent_requests`` (waiting in a bounded queue, 429 when it
is full), then its body is read and its signature checked, and the handler runs on the pool. Every answer, the
server's own refusals included, is in the AWS error shape with ``x-amzn-RequestId`` and no ``Server`` banner;
anything escaping the handler becomes a 500 with the traceback only in the server log. Limits: ``limits``.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import time
import uuid
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler
from io import BufferedReader
from typing import Any, Protocol
from urllib.parse import unquote

from stillframe.access.sigv4 import SignedRequest
from stillframe.api.errors import http_error
from stillframe.domain.playback import is_playback_path
from stillframe.errors import (
    HeadersTooLargeError,
    MalformedRequestError,
    RequestLineTooLongError,
    RequestTooLargeError,
    SessionInterrupted,
    StillframeError,
    ThrottledError,
)
from stillframe.server import wire
from stillframe.server.browsers import BrowserPolicy, is_preflight
from stillframe.server.context import ServerConfig, invocation_context
from stillframe.server.events import build_event, decode_response
from stillframe.server.gate import RequestGate
from stillframe.server.limits import Admission, ServerLimits
from stillframe.server.media_writer import MediaWriter, is_media_read
from stillframe.server.request_log import log_request
from stillframe.server.session import MediaSession, is_media_session

# The package's name, not this module's: the CLI's log setup and anyone filtering logs know the server by it.
logger = logging.getLogger("stillframe.server")

_ONE_WRITE_MAX = 64 * 1024  # smaller answers leave in one write; larger ones are not copied to join them
Answer = tuple[int, list[tuple[str, str]], bytes]


class ConnectionServer(Protocol):
    """What a connection's requests need of the server that accepted it (``http.StillframeServer`` is one).

    The handler depends on this, not on the server class, so the server module can import the handler.
    """

    @property
    def limits(self) -> ServerLimits: ...
    @property
    def config(self) -> ServerConfig: ...
    @property
    def gate(self) -> RequestGate: ...
    @property
    def browsers(self) -> BrowserPolicy: ...
    @property
    def admission(self) -> Admission: ...
    @property
    def playback_admission(self) -> Admission: ...
    @property
    def stopping(self) -> bool: ...
    @property
    def scheme(self) -> str: ...
    @property
    def url(self) -> str: ...

    def track(self, conn: socket.socket, *, busy: bool) -> None: ...
    def forget(self, conn: socket.socket) -> None: ...
    def run_handler(self, event: dict[str, Any], context: Any) -> Mapping[str, Any]: ...
    def run_inline(self, event: dict[str, Any], context: Any) -> Mapping[str, Any]: ...


class RequestHandler(BaseHTTPRequestHandler):
    """One connection's requests, read and checked in order, each answered by the server's proxy handler."""

    protocol_version = "HTTP/1.1"  # keep-alive, as SDK clients expect
    server: ConnectionServer  # type: ignore[assignment]  # http.server types it BaseServer; ours is one too
    _unread_body = False
    _streamed = False  # the answer already went out as it was made (a PutMedia session)
    _streamed_bytes = 0  # what that answer's body held, for the log line
    _stream: str | None = None  # the stream the request names, for its log line
    _signed = True  # whether the request needs a signature (the gate's open paths do not)
    _reader: wire.DeadlineReader
    rfile: BufferedReader

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(self.server.limits.header_timeout_s)
            self.request.do_handshake()
        super().setup()
        # Without it a small answer after a write waits for the client's delayed ACK (Nagle): ~40 ms each.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._reader = wire.DeadlineReader(self.connection)
        self.rfile = BufferedReader(self._reader, 64 * 1024)
        self.server.track(self.connection, busy=False)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.forget(self.connection)

    def handle_one_request(self) -> None:
        """Read one request within the idle and header timeouts, then serve it; any method reaches the handler."""
        limits = self.server.limits
        self.close_connection = True
        self.command, self.request_version, self.path = "", "HTTP/1.1", "/"
        try:
            self._reader.deadline = time.monotonic() + limits.idle_timeout_s
            if not self.rfile.peek(1):
                return  # the client closed the connection
            self._reader.deadline = time.monotonic() + limits.header_timeout_s
            self.raw_requestline = self.rfile.readline(wire.MAX_REQUEST_LINE + 1)
            if len(self.raw_requestline) > wire.MAX_REQUEST_LINE:
                self._refuse(RequestLineTooLongError("The request line is longer than 16 KiB."))
                return
            problem = wire.check_request_line(self.raw_requestline)
            if problem is not None:
                self._refuse(MalformedRequestError(problem))
                return
            if not self.parse_request():  # headers; it answers malformed ones itself, through send_error
                return
            self._dispatch()
        except TimeoutError:
            logger.info("client too slow, connection closed", extra={"client": str(self.client_address)})
            self.close_connection = True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's refusals of malformed headers (400, 431 when too large) in the AWS error shape, then close.

        A 505 or 501 here is still the client's doing: 400.
        """
        error_type = HeadersTooLargeError if code == HeadersTooLargeError.status else MalformedRequestError
        self._refuse(error_type(message or "Malformed request."))

    def _refuse(self, error: StillframeError) -> None:
        self.close_connection = True
        self._respond(*http_error(error, str(uuid.uuid4())), head_only=False)

    def handle_expect_100(self) -> bool:
        # Refuse an oversized body before the client sends it.
        if self._declared_length() <= self.server.config.max_body_bytes:
            return super().handle_expect_100()
        started = time.perf_counter()
        self.close_connection = True
        status, headers, payload = self._too_large(str(uuid.uuid4()))
        self._respond(status, headers, payload, head_only=False)
        self._log(status, headers, len(payload), started)
        return False

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # one structured line per request is written by _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("http server message", extra={"detail": format % args})

    def _dispatch(self) -> None:
        started = time.perf_counter()
        self._stream = None
        self._streamed = False
        self.server.track(self.connection, busy=True)
        try:
            status, headers, payload = self._serve_one()
            headers = self._with_cors(headers)
            if self.server.stopping:
                self.close_connection = True
            if not self._streamed:
                self._respond(status, headers, payload, head_only=self.command == "HEAD")
        finally:
            self.server.track(self.connection, busy=False)
        self._log(status, headers, self._streamed_bytes if self._streamed else len(payload), started)
        if self._unread_body:
            _linger(self.connection)

    def _log(self, status: int, headers: list[tuple[str, str]], size: int, started: float) -> None:
        log_request(
            method=self.command,
            target=self.path,
            stream=self._stream,
            status=status,
            headers=headers,
            size=size,
            duration_s=time.perf_counter() - started,
        )

    def _serve_one(self) -> Answer:
        request_id = str(uuid.uuid4())
        try:
            framing = wire.body_framing(
                self.headers.get_all("Content-Length") or [],
                self.headers.get_all("Transfer-Encoding") or [],
                self.server.config.max_body_bytes,
            )
        except wire.BodyTooLarge:
            self.close_connection = self._unread_body = True
            return self._too_large(request_id)
        except wire.BadRequest as exc:
            self.close_connection = True
            return http_error(MalformedRequestError(str(exc)), request_id)
        headers = list(self.headers.items())
        refusal = self.server.browsers.refusal(self.command, self.path, headers)
        preflight = is_preflight(self.command)
        self._signed = not preflight and self.server.gate.needs_signature(self.command, self.path)
        refusal = refusal or self.server.gate.admit(headers, signed=self._signed)
        if refusal is not None or preflight:
            self._drop_body(framing)
            return http_error(refusal, request_id) if refusal is not None else self._preflight(request_id)
        if is_media_session(self.command, self.path, framing):
            answer = self._session(request_id)  # not a request slot: a session lasts as long as its producer
            if answer is not None:
                return answer
            # Signed over its whole body after all (a client that buffered it): read it, as any request
        if is_media_read(self.command, self.path):
            return self._read_and_invoke(framing, request_id, streaming=True)  # no slot: it lasts while it is read
        # A player's GET of a playback session: a lane of its own, on this thread (``server.limits``)
        playback = self.command in ("GET", "HEAD") and is_playback_path(unquote(self.path.split("?", 1)[0]))
        lane = self.server.playback_admission if playback else self.server.admission
        if not lane.enter():
            self._drop_body(framing)
            return limit_exceeded("too many requests are waiting", request_id)
        try:
            return self._read_and_invoke(framing, request_id, inline=playback)
        finally:
            lane.leave()

    def _read_and_invoke(
        self, framing: wire.Framing, request_id: str, *, streaming: bool = False, inline: bool = False
    ) -> Answer:
        self._reader.deadline = time.monotonic() + self.server.limits.body_timeout_s
        try:
            body = wire.read_body(self.rfile, framing, self.server.config.max_body_bytes)
        except wire.BodyTooLarge:
            self.close_connection = self._unread_body = True
            return self._too_large(request_id)
        except wire.BadRequest as exc:
            self.close_connection = True
            return http_error(MalformedRequestError(f"Malformed request body: {exc}"), request_id)
        finally:
            self._reader.deadline = None
        headers = list(self.headers.items())
        # The signature covers the body, so only this part of the check waits for it.
        signed = SignedRequest(self.command, self.path, headers, body)
        refusal = self.server.gate.authenticate(signed) if self._signed else None
        if refusal is not None:
            return http_error(refusal, request_id)
        return self._media_read(body, request_id) if streaming else self._invoke(body, request_id, inline=inline)

    def _session(self, request_id: str) -> Answer | None:
        """A producer's streaming PutMedia (``server.session``): the handler answers it ack by ack.

        None when serve's own key pair (the gate) finds the signature is not over the empty payload (as KVS producers
        sign: the body streams after the signature) but may be over the whole body: the caller then reads the body
        and checks it as usual. With keys auth the handler checks the signature, over the empty payload.
        """
        headers = list(self.headers.items())
        signed = SignedRequest(self.command, self.path, headers, b"")
        if self._signed and self.server.gate.authenticate(signed) is not None:
            return None
        session = MediaSession(
            self.rfile, self.wfile, self._reader, headers=self._with_cors([("x-amzn-RequestId", request_id)])
        )
        context = invocation_context(request_id, self.server.config)
        context.media_session = session
        answer = http_error(SessionInterrupted("The PutMedia session ended before it was answered."), request_id)
        try:
            answer = decode_response(self.server.run_inline(self._event(None, request_id), context))
            self._stream = context.request_log.get("stream")
            session.finish()
        except SessionInterrupted:
            self.close_connection = True  # the producer is gone
        except Exception:
            logger.exception("put-media session failed", extra={"request_id": request_id})
            answer = http_error(StillframeError("The service hit an internal error."), request_id)
        if not session.started:
            self.close_connection = True  # its body was not read
            return answer
        self._streamed = True
        self._streamed_bytes = session.sent
        self.close_connection = self.close_connection or not session.body_complete
        return 200, [("x-amzn-RequestId", request_id)], b""  # for the log line: the answer went out already

    def _media_read(self, body: bytes | None, request_id: str) -> Answer:
        """A GetMedia (``server.media_writer``): the handler writes the media as fragments come, on this thread.

        Before the 200 went out the handler's answer is sent as usual (an error); after it, an error can only end
        the stream: the connection is closed without the terminating chunk, so the client sees the cut.
        """
        writer = MediaWriter(
            self.connection,
            self.wfile,
            headers=self._with_cors([("x-amzn-RequestId", request_id)]),
            content_type="video/webm",
            running=lambda: not self.server.stopping,
        )
        context = invocation_context(request_id, self.server.config)
        context.media_writer = writer
        self.connection.settimeout(self.server.limits.write_timeout_s)  # a client that stops reading is let go
        status = 500
        answer = http_error(StillframeError("The service hit an internal error."), request_id)
        try:
            answer = decode_response(self.server.run_inline(self._event(body, request_id), context))
            status = answer[0]
            self._stream = context.request_log.get("stream")
        except Exception:
            logger.exception("get-media failed", extra={"request_id": request_id})
        if not writer.started:
            return answer
        self._streamed = True
        if status == 200:
            writer.finish()
        self.close_connection = self.close_connection or writer.broken or status != 200
        return 200, [("x-amzn-RequestId", request_id)], b""  # for the log line: the answer went out already

    def _preflight(self, request_id: str) -> Answer:
        """A CORS preflight's answer: 200, no body, the CORS headers when the Origin is one the server serves."""
        cors = self.server.browsers.cors_headers(list(self.headers.items()), preflight=True)
        return 200, [*cors, ("x-amzn-RequestId", request_id)], b""

    def _with_cors(self, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """``headers`` with the server's CORS headers in place of any the handler set (the resolver's allow all)."""
        if self.command == "OPTIONS":
            return headers
        kept = [(name, value) for name, value in headers if not name.lower().startswith("access-control-")]
        return kept + self.server.browsers.cors_headers(list(self.headers.items()))

    def _drop_body(self, framing: wire.Framing) -> None:
        """After a refusal: read a small body away to keep the connection, else close it."""
        self._reader.deadline = time.monotonic() + self.server.limits.body_timeout_s
        if not wire.discard_body(self.rfile, framing):
            self.close_connection = self._unread_body = True
        self._reader.deadline = None

    def _event(self, body: bytes | None, request_id: str) -> dict[str, Any]:
        """The REST proxy event of this request, with ``body``."""
        headers = list(self.headers.items())
        if self.headers.get("Host") is None:
            headers.append(("Host", self.server.url.split("://", 1)[1]))
        return build_event(
            method=self.command,
            target=self.path,
            headers=headers,
            body=body,
            source_ip=self.client_address[0],
            request_id=request_id,
            protocol=self.request_version,
            account_id=self.server.config.account_id,
            scheme=self.server.scheme,
        )

    def _invoke(self, body: bytes | None, request_id: str, *, inline: bool = False) -> Answer:
        event = self._event(body, request_id)
        del body  # the event holds the body now; one copy fewer while the handler runs
        context = invocation_context(request_id, self.server.config)
        run = self.server.run_inline if inline else self.server.run_handler
        try:
            answer = decode_response(run(event, context))
            self._stream = context.request_log.get("stream")
            return answer
        except Exception:
            logger.exception("handler failed", extra={"request_id": request_id, "path": event["path"]})
            message = "The service hit an internal error; the server log has details."
            return http_error(StillframeError(message), request_id)

    def _too_large(self, request_id: str) -> Answer:
        limit = self.server.config.max_body_bytes
        message = f"Request body is larger than the limit of {limit} bytes."
        return http_error(RequestTooLargeError(message), request_id)

    def _declared_length(self) -> int:
        raw = self.headers.get("Content-Length")
        try:
            return int(raw) if raw else 0
        except ValueError:
            return 0  # body_framing reports the malformed header

    def _respond(self, status: int, headers: list[tuple[str, str]], payload: bytes, *, head_only: bool) -> None:
        self.connection.settimeout(self.server.limits.write_timeout_s)
        head = wire.head_block(status, headers, len(payload), close=self.close_connection)
        if head_only:
            self.wfile.write(head)
        elif len(payload) <= _ONE_WRITE_MAX:
            self.wfile.write(head + payload)  # one write: headers and body leave in the same segment
        else:
            self.wfile.write(head)
            self.wfile.write(payload)


def limit_exceeded(reason: str, request_id: str) -> Answer:
    """The 429 ClientLimitExceededException of a limit the server holds (connections, queued requests)."""
    return http_error(ThrottledError(f"Too Many Requests: {reason}; retry with backoff."), request_id)


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


def shutdown_reads(conn: socket.socket) -> None:
    """End the reads of a connection: its worker's blocking read returns EOF and the worker ends."""
    with contextlib.suppress(OSError):  # already closed by the client
        conn.shutdown(socket.SHUT_RD)
