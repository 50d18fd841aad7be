"""One chunked PutMedia held open for a live upload: the body written chunk by chunk, acks read as they come.

This is the transport of ``stillframe.uploader.live``: the request head is signed as KVS producers sign it, over
the empty payload (the body follows the signature), and a thread reads the answer, turning each ack (one JSON line
per HTTP chunk) into an event on the upload's queue. Every event carries the connection's generation, so the
upload can ignore what an abandoned connection still reports.
"""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from stillframe.client import Signing, sign_headers, tls_context
from stillframe.uploader import REQUEST_TIMEOUT_S, EndpointError, HttpReply, TransientError, describe_failure

MAX_ACK_BYTES = 64 * 1024  # an ack is a short JSON line; anything longer is not one


@dataclass(frozen=True)
class Ack:
    generation: int
    ack: dict[str, Any]


@dataclass(frozen=True)
class Refused:
    """The service answered the session with an error instead of ``200``."""

    generation: int
    reply: HttpReply


@dataclass(frozen=True)
class Closed:
    """The ack stream ended: the service finished it, or the connection broke (``reason``)."""

    generation: int
    reason: str


SessionEvent = Ack | Refused | Closed


class SessionConnection:
    """One PutMedia session over its own socket; ``open`` sends the head and starts reading the answer."""

    def __init__(
        self,
        endpoint_url: str,
        signing: Signing | None,
        headers: dict[str, str],
        *,
        ca_bundle: str | None = None,
        timeout_s: float = REQUEST_TIMEOUT_S,
    ) -> None:
        self.url = endpoint_url.rstrip("/") + "/putMedia"
        self._signing = signing
        self._headers = headers
        self._ca_bundle = ca_bundle
        self._timeout_s = timeout_s
        self._sock: socket.socket | None = None

    def open(self, events: queue.Queue[Any], generation: int) -> None:
        """Connect, send the signed head, and start the thread that reports the answer on ``events``."""
        self._sock = self._connect()
        try:
            self._sock.sendall(self._head())
        except OSError as exc:
            self.close()
            raise TransientError(describe_failure(exc)) from exc
        reader = threading.Thread(target=_read_answer, args=(self._sock, events, generation), daemon=True)
        reader.start()

    def send(self, data: bytes) -> None:
        """Write ``data`` as one HTTP chunk; TransientError if the connection is gone."""
        self._write(b"%x\r\n%s\r\n" % (len(data), data))

    def end(self) -> None:
        """Send the terminating chunk: the body is complete."""
        self._write(b"0\r\n\r\n")

    def close(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):  # already gone
                self._sock.shutdown(socket.SHUT_RDWR)  # wakes the reading thread
            self._sock.close()
            self._sock = None

    def _write(self, data: bytes) -> None:
        if self._sock is None:
            raise TransientError("the session is closed")
        try:
            self._sock.sendall(data)
        except OSError as exc:
            raise TransientError(describe_failure(exc)) from exc

    def _connect(self) -> socket.socket:
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            sock = socket.create_connection((host, port), timeout=self._timeout_s)
        except socket.gaierror as exc:
            raise EndpointError(f"cannot reach {parts.netloc}: {exc}") from exc
        except OSError as exc:
            raise TransientError(describe_failure(exc)) from exc
        if parts.scheme != "https":
            return sock
        try:
            return tls_context(self._ca_bundle).wrap_socket(sock, server_hostname=host)
        except ssl.SSLCertVerificationError as exc:
            sock.close()
            raise EndpointError(f"cannot reach {parts.netloc}: {exc}") from exc
        except OSError as exc:
            sock.close()
            raise TransientError(describe_failure(exc)) from exc

    def _head(self) -> bytes:
        parts = urlsplit(self.url)
        headers = {**self._headers, "Transfer-Encoding": "chunked"}
        if self._signing is not None:  # over the empty payload: the body streams after the signature
            headers = sign_headers(self._signing, "POST", self.url, headers, b"")
        lines = [f"POST {parts.path} HTTP/1.1", f"Host: {parts.netloc}"]
        lines += [f"{name}: {value}" for name, value in headers.items() if name.lower() != "host"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _read_answer(sock: socket.socket, events: queue.Queue[Any], generation: int) -> None:
    """Report the answer on ``events``: Refused, or each Ack then Closed."""
    stream = sock.makefile("rb")
    try:
        status, headers = _status_and_headers(stream)
        if status != 200:
            body = stream.read(int(headers.get("content-length") or 0))
            events.put(Refused(generation, HttpReply(status, body, headers.get("x-amzn-errortype", ""))))
            return
        for line in _chunk_lines(stream):
            if line.strip():
                events.put(Ack(generation, _ack(line)))
        events.put(Closed(generation, "the service ended the session"))
    except (OSError, ValueError) as exc:
        events.put(Closed(generation, describe_failure(exc)))
    finally:
        stream.close()


def _status_and_headers(stream: BinaryIO) -> tuple[int, dict[str, str]]:
    status_line = stream.readline(MAX_ACK_BYTES)
    if not status_line:
        raise ConnectionResetError("connection dropped")
    status = int(status_line.split()[1])
    headers = {}
    while (line := stream.readline(MAX_ACK_BYTES)) not in (b"\r\n", b"\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


def _chunk_lines(stream: BinaryIO) -> Iterator[bytes]:
    """The lines of a chunked body (the service writes each ack as one chunk), until the terminating chunk."""
    while True:
        size_line = stream.readline(MAX_ACK_BYTES)
        if not size_line:
            raise ConnectionResetError("connection dropped")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return
        if size > MAX_ACK_BYTES:
            raise ValueError("an acknowledgement is too long")
        data = stream.read(size)
        stream.readline(MAX_ACK_BYTES)
        yield from data.split(b"\n")


def _ack(line: bytes) -> dict[str, Any]:
    ack = json.loads(line)
    if not isinstance(ack, dict):
        raise ValueError(f"not an acknowledgement: {line[:200]!r}")
    return ack
