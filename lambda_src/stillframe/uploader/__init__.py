"""The client side of PutMedia: cut a file into request-sized chunks and POST each one, signed, with retries.

A chunk holds whole GOPs and at most ``MAX_CHUNK_BYTES`` (4 MiB), so that after API Gateway and Lambda
base64-encode it (~5.6 MB) it still fits Lambda's 6 MB request limit; a single GOP bigger than that is sent
alone, with a warning. Retrying a chunk is safe: the server stores an identical fragment once.
"""

from __future__ import annotations

import http.client
import json
import logging
import random
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from stillframe.client import Signing, sign_headers, tls_context
from stillframe.domain.acks import is_error, is_persisted

logger = logging.getLogger(__name__)

MAX_CHUNK_BYTES = 4 * 1024 * 1024
CHUNK_TARGET_MS = 24 * 3600 * 1000  # a file's chunks are bounded by bytes, not by time
LIVE_CHUNK_TARGET_MS = 2000  # a live source sends each ~2 s fragment as soon as it is complete, as KVS producers do
MAX_ATTEMPTS = 5
BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 8.0
REQUEST_TIMEOUT_S = 120.0
TIMECODE_TYPES = ("RELATIVE", "ABSOLUTE")


class Chunk(Protocol):
    """What the uploader needs from a ``stillframe.media.split.MediaFragment``."""

    @property
    def data(self) -> bytes:
        """A standalone MKV holding whole GOPs."""

    @property
    def offset_ms(self) -> int:
        """Start of the chunk's first frame, from the source's first frame."""

    @property
    def duration_ms(self) -> int:
        """How much video the chunk holds."""

    @property
    def statement(self) -> dict[str, str]:
        """Headers stating what the server cannot read from the chunk: display transform, presentation window."""


Splitter = Callable[..., Iterable[Chunk]]
"""``iter_fragments(source, *, target_ms, max_bytes)``."""


class TransientError(Exception):
    """The request may not have arrived, or the answer was lost (connection refused/dropped, timeout)."""


class EndpointError(Exception):
    """The endpoint cannot be reached at all (unknown host, TLS failure): retrying will not help."""


class ChunkRejected(Exception):
    """The service refused a chunk with a final (non-retryable) answer."""

    def __init__(self, index: int, status: int, code: str, message: str) -> None:
        super().__init__(f"chunk {index} refused: HTTP {status} {code}: {message}")
        self.index, self.status, self.code, self.message = index, status, code, message


class ChunkFailed(Exception):
    """A chunk still failed after every attempt."""

    def __init__(self, index: int, attempts: int, reason: str) -> None:
        super().__init__(f"chunk {index} failed after {attempts} attempts: {reason}")
        self.index, self.attempts, self.reason = index, attempts, reason


@dataclass(frozen=True)
class HttpReply:
    """Status, AWS error type header and body of one HTTP answer."""

    status: int
    body: bytes
    error_type: str = ""


@dataclass(frozen=True)
class PutMediaTarget:
    """Where and how chunks go: stream, producer clock start (epoch ms) and timecode type."""

    stream_name: str
    producer_start_ms: int
    timecode_type: str = "RELATIVE"

    def session_headers(self) -> dict[str, str]:
        """Headers of a live session: the upload's own producer start; each cluster's Timecode is its offset."""
        start_ms = self.producer_start_ms
        return {
            "x-amzn-stream-name": self.stream_name,
            "x-amzn-fragment-timecode-type": self.timecode_type,
            "x-amzn-producer-start-timestamp": f"{start_ms // 1000}.{start_ms % 1000:03d}",
            "x-amzn-fragment-acknowledgment-required": "1",
            "Content-Type": "application/octet-stream",
        }

    def headers_for(self, chunk: Chunk) -> dict[str, str]:
        """PutMedia headers of one chunk; its producer start is the upload's start plus the chunk's offset."""
        start_ms = self.producer_start_ms + chunk.offset_ms
        return {
            "x-amzn-stream-name": self.stream_name,
            "x-amzn-fragment-timecode-type": self.timecode_type,
            "x-amzn-producer-start-timestamp": f"{start_ms // 1000}.{start_ms % 1000:03d}",
            "Content-Type": "application/octet-stream",
            **chunk.statement,
        }


@dataclass(frozen=True)
class ChunkResult:
    """One chunk accepted by the service, with the acks of the attempt that succeeded."""

    index: int
    offset_ms: int
    duration_ms: int
    size: int
    acks: tuple[dict[str, Any], ...]
    attempts: int

    @property
    def persisted(self) -> int:
        """How many fragments of this chunk the service stored."""
        return sum(1 for ack in self.acks if is_persisted(ack))

    @property
    def errors(self) -> list[dict[str, Any]]:
        """ERROR acks (fragments the service refused)."""
        return [ack for ack in self.acks if is_error(ack)]


class PutMediaPoster:
    """POSTs signed PutMedia requests to ``<endpoint>/putMedia`` over one kept-alive connection.

    HTTPS is verified against ``ca_bundle``, else ``AWS_CA_BUNDLE`` (as boto3), else the system's certificates.
    """

    def __init__(
        self,
        endpoint_url: str,
        signing: Signing | None,
        *,
        timeout_s: float = REQUEST_TIMEOUT_S,
        ca_bundle: str | None = None,
    ) -> None:
        self.url = endpoint_url.rstrip("/") + "/putMedia"
        parts = urlsplit(self.url)
        self._https = parts.scheme == "https"
        self._netloc = parts.netloc
        self._path = parts.path
        self._signing = signing
        self._timeout_s = timeout_s
        self._ca_bundle = ca_bundle
        self._conn: http.client.HTTPConnection | None = None

    def post(self, headers: dict[str, str], body: bytes) -> HttpReply:
        """Send one request and read the whole answer.

        Raises TransientError when it did not complete, EndpointError when the host cannot be reached at all.
        """
        if self._signing is not None:
            headers = sign_headers(self._signing, "POST", self.url, headers, body)
        try:
            conn = self._connection()
            conn.request("POST", self._path, body=body, headers=headers)
            response = conn.getresponse()
            return HttpReply(response.status, response.read(), response.getheader("x-amzn-ErrorType") or "")
        except (socket.gaierror, ssl.SSLCertVerificationError) as exc:
            self.close()
            raise EndpointError(f"cannot reach {self._netloc}: {exc}") from exc
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise TransientError(describe_failure(exc)) from exc

    def close(self) -> None:
        """Drop the connection (the next post opens a new one)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            if self._https:
                context = tls_context(self._ca_bundle)
                self._conn = http.client.HTTPSConnection(self._netloc, timeout=self._timeout_s, context=context)
            else:
                self._conn = http.client.HTTPConnection(self._netloc, timeout=self._timeout_s)
        return self._conn


def upload(
    source: str,
    target: PutMediaTarget,
    poster: PutMediaPoster,
    *,
    splitter: Splitter,
    max_chunk_bytes: int = MAX_CHUNK_BYTES,
    chunk_target_ms: int = CHUNK_TARGET_MS,
    max_attempts: int = MAX_ATTEMPTS,
    backoff_base_s: float = BACKOFF_BASE_S,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[ChunkResult]:
    """Cut ``source`` into chunks and send each in order, yielding each accepted chunk.

    Stops at the first chunk that is refused (ChunkRejected) or keeps failing (ChunkFailed): later chunks would
    only leave a gap behind them. ``splitter`` raises MediaError for unreadable media.
    """
    chunks = splitter(source, target_ms=chunk_target_ms, max_bytes=max_chunk_bytes)
    for index, chunk in enumerate(chunks):
        if len(chunk.data) > max_chunk_bytes:
            logger.warning(
                "one GOP is larger than the request limit; sending it alone",
                extra={"chunk": index, "bytes": len(chunk.data), "limit": max_chunk_bytes},
            )
        yield send_chunk(
            poster, target, chunk, index, max_attempts=max_attempts, backoff_base_s=backoff_base_s, sleep=sleep
        )


def send_chunk(
    poster: PutMediaPoster,
    target: PutMediaTarget,
    chunk: Chunk,
    index: int,
    *,
    max_attempts: int = MAX_ATTEMPTS,
    backoff_base_s: float = BACKOFF_BASE_S,
    sleep: Callable[[float], None] = time.sleep,
) -> ChunkResult:
    """Send one chunk, retrying connection errors, timeouts, 5xx and 429 with exponential backoff."""
    reason = ""
    for attempt in range(1, max_attempts + 1):
        try:
            reply = poster.post(target.headers_for(chunk), chunk.data)
        except TransientError as exc:
            reason = str(exc)
        else:
            if 200 <= reply.status < 300:
                acks = parse_acks(index, reply)
                return ChunkResult(index, chunk.offset_ms, chunk.duration_ms, len(chunk.data), acks, attempt)
            code, message = error_details(reply)
            if not is_retryable(reply.status):
                raise ChunkRejected(index, reply.status, code, message)
            reason = f"HTTP {reply.status} {code}: {message}"
        if attempt < max_attempts:
            delay = backoff_delay(attempt, backoff_base_s)
            logger.warning(
                "chunk upload failed; retrying", extra={"chunk": index, "attempt": attempt, "reason": reason}
            )
            sleep(delay)
    raise ChunkFailed(index, max_attempts, reason)


def is_retryable(status: int) -> bool:
    """5xx and 429 (throttling) may succeed later; any other 4xx will not."""
    return status >= 500 or status == 429


def backoff_delay(attempt: int, base_s: float) -> float:
    """Exponential backoff with jitter (so many uploaders do not retry in lockstep), capped."""
    return min(BACKOFF_CAP_S, base_s * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


def parse_acks(index: int, reply: HttpReply) -> tuple[dict[str, Any], ...]:
    """The JSON-lines acks of a 2xx answer; ChunkRejected if the body is not JSON objects."""
    acks = []
    for line in reply.body.decode("utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            ack = json.loads(line)
        except ValueError:
            ack = None
        if not isinstance(ack, dict):
            raise ChunkRejected(index, reply.status, "InvalidResponse", f"not an acknowledgement: {line[:200]!r}")
        acks.append(ack)
    return tuple(acks)


def error_details(reply: HttpReply) -> tuple[str, str]:
    """AWS error name and message of an error answer (rest-json shape, or API Gateway's own)."""
    try:
        payload = json.loads(reply.body)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        return reply.error_type or "HttpError", reply.body[:200].decode("utf-8", errors="replace").strip()
    code = reply.error_type.split(":", 1)[0] or str(payload.get("__type") or "HttpError")
    message = payload.get("message") or payload.get("Message") or ""
    return code.rsplit("#", 1)[-1], str(message)


def describe_failure(exc: BaseException) -> str:
    """A short sentence for a failed send or read (timeout, refused, dropped)."""
    if isinstance(exc, socket.timeout | TimeoutError):
        return "request timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, http.client.RemoteDisconnected | ConnectionResetError | BrokenPipeError):
        return "connection dropped"
    return str(exc) or type(exc).__name__
