"""HTTP/1.1 framing for ``stillframe serve``: request lines, body framing and limits, reads with a deadline.

The body's framing is settled from the headers alone (one Content-Length, or ``Transfer-Encoding: chunked``, never
both or conflicting), so its size is refused before a byte of it is read, and a chunked body is counted against the
same cap as it arrives. Reads go through ``DeadlineReader``, so a client trickling a header line every few seconds
cannot hold a connection past the header timeout.
"""

from __future__ import annotations

import io
import re
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from typing import BinaryIO

MAX_REQUEST_LINE = 16 * 1024
HTTP_VERSIONS = ("HTTP/1.0", "HTTP/1.1")
_METHOD = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,15}")  # 15 hex digits: a size that cannot be negative or absurd
_MAX_CHUNK_LINE = 1024
DISCARD_LIMIT = 1024 * 1024  # an unwanted body up to this is read and dropped, so the connection stays usable


class BadRequest(Exception):
    """The request cannot be framed; the message says why (sent to the client as a 400)."""


class BodyTooLarge(Exception):
    """The body is (or turns out to be) larger than the cap."""


@dataclass(frozen=True)
class Framing:
    """How the request body is delimited: ``length`` bytes, chunked (``length`` None), or no body."""

    chunked: bool = False
    length: int | None = None

    @property
    def has_body(self) -> bool:
        return self.chunked or bool(self.length)


class DeadlineReader(io.RawIOBase):
    """Socket reads that fail with ``TimeoutError`` once ``deadline`` (``time.monotonic()``) has passed."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__()
        self._sock = sock
        self.deadline: float | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the client took too long to send the request")
            self._sock.settimeout(left)
        return self._sock.recv_into(buffer)


def check_request_line(raw: bytes) -> str | None:
    """None for ``METHOD target HTTP/1.x``; else why it is not one (HTTP/0.9 and HTTP/2 lines included)."""
    words = raw.rstrip(b"\r\n").split(b" ")
    if len(words) != 3 or not all(words):
        return "The request line must be 'METHOD target HTTP/1.1'."
    method, _, version = words
    if not _METHOD.fullmatch(method):
        return "The request method is not a valid HTTP token."
    if version.decode("latin-1") not in HTTP_VERSIONS:
        return f"HTTP version {version.decode('latin-1')!r} is not supported; use HTTP/1.1."
    return None


def body_framing(content_length: list[str], transfer_encoding: list[str], limit: int) -> Framing:
    """The framing the headers declare; BadRequest for ambiguous framing, BodyTooLarge over ``limit``."""
    if transfer_encoding:
        codings = [part.strip().lower() for value in transfer_encoding for part in value.split(",")]
        if codings != ["chunked"]:
            raise BadRequest("Transfer-Encoding must be exactly 'chunked'.")
        if content_length:
            raise BadRequest("A request must not carry both Content-Length and Transfer-Encoding.")
        return Framing(chunked=True)
    if not content_length:
        return Framing()
    values = {part.strip() for value in content_length for part in value.split(",")}
    if len(values) != 1:
        raise BadRequest("The request carries conflicting Content-Length values.")
    raw = values.pop()
    if not raw.isdigit() or len(raw) > 19:
        raise BadRequest(f"Content-Length {raw[:40]!r} is not a number.")
    length = int(raw)
    if length > limit:
        raise BodyTooLarge
    return Framing(length=length)


def read_body(rfile: BinaryIO, framing: Framing, limit: int) -> bytes | None:
    """The whole body (None when there is none); BodyTooLarge as soon as a chunked body passes ``limit``."""
    if framing.chunked:
        return read_chunked(rfile, limit)
    if not framing.length:
        return None
    body = rfile.read(framing.length)
    if len(body) < framing.length:
        raise BadRequest("The connection closed before the whole body arrived.")
    return body


def read_chunked(rfile: BinaryIO, limit: int) -> bytes:
    """A chunked body, strictly: hex sizes (no sign, no junk), CRLF after each chunk, trailers skipped."""
    parts: list[bytes] = []
    total = [0]

    def within_limit(size: int) -> None:  # before the chunk is read: a huge chunk is refused unread
        total[0] += size
        if total[0] > limit:
            raise BodyTooLarge

    parts.extend(iter_chunks(rfile, before_each=within_limit))
    return b"".join(parts)


def iter_chunks(rfile: BinaryIO, *, before_each: Callable[[int], None]) -> Iterator[bytes]:
    """The chunks of a chunked body as they arrive; ``before_each(size)`` runs before a chunk is read (a limit,
    a deadline). BadRequest for a malformed or cut-short body: it never just ends early."""
    while True:
        line = rfile.readline(_MAX_CHUNK_LINE)
        size_text = line.split(b";", 1)[0].strip()
        if not line.endswith(b"\n") or not _CHUNK_SIZE.fullmatch(size_text):
            raise BadRequest("The chunked body has a malformed chunk size line.")
        size = int(size_text, 16)
        if size == 0:
            _skip_trailers(rfile)
            return
        before_each(size)
        chunk = rfile.read(size)
        if len(chunk) < size or rfile.readline(3) not in (b"\r\n", b"\n"):
            raise BadRequest("A chunk of the chunked body is cut short or not followed by CRLF.")
        yield chunk


def _skip_trailers(rfile: BinaryIO) -> None:
    for _ in range(100):
        line = rfile.readline(_MAX_CHUNK_LINE)
        if line in (b"\r\n", b"\n", b""):
            return
    raise BadRequest("The chunked body has too many trailer lines.")


def discard_body(rfile: BinaryIO, framing: Framing) -> bool:
    """Read and drop a small Content-Length body; True when the connection can serve another request."""
    if framing.chunked or (framing.length or 0) > DISCARD_LIMIT:
        return not framing.has_body
    if framing.length:
        return len(rfile.read(framing.length)) == framing.length
    return True


def head_block(status: int, headers: list[tuple[str, str]], content_length: int, *, close: bool) -> bytes:
    """Status line and headers of a response (no ``Server`` banner, as AWS sends none)."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    lines = [f"HTTP/1.1 {status} {phrase}", f"Date: {formatdate(usegmt=True)}"]
    lines += [f"{name}: {value}" for name, value in headers]
    lines.append(f"Content-Length: {content_length}")
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
