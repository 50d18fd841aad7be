"""A streaming PutMedia on ``stillframe serve``: the chunked body read as it arrives, each ack written as it is made.

KVS producers keep one PutMedia open for a whole session and read acknowledgements while they send. serve hands
the API handler an invocation context carrying a ``MediaSession``; the PutMedia route then reads the media through
``chunks()`` and answers through ``send()``: the first ack sends ``200`` with a chunked JSON body, every ack is one
chunk, flushed at once (the SDK reads at most 1 KiB per ack). Errors found before the first ack (unknown stream,
a refused key) are answered as usual instead. The wait for the next chunk is bounded by ``idle_timeout_s``, not the
session's length; a connection cut or a body that is not well-formed chunking raises ``SessionInterrupted``, so
nothing of an unfinished cluster is stored.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import unquote

from stillframe.errors import SessionInterrupted
from stillframe.server import wire

SESSION_IDLE_TIMEOUT_S = 30.0
PUT_MEDIA = "/putMedia"


def is_media_session(method: str, target: str, framing: wire.Framing) -> bool:
    """A PutMedia whose body streams (chunked, no length): a producer's session, answered ack by ack."""
    return method == "POST" and unquote(target.split("?", 1)[0]) == PUT_MEDIA and framing.chunked


class MediaSession:
    """One session's two directions over its connection."""

    def __init__(
        self,
        rfile: BinaryIO,
        wfile: io.BufferedIOBase,
        reader: wire.DeadlineReader,
        *,
        headers: list[tuple[str, str]],
        idle_timeout_s: float = SESSION_IDLE_TIMEOUT_S,
    ) -> None:
        self._rfile = rfile
        self._wfile = wfile
        self._reader = reader
        self._headers = headers  # of the 200 (request id, CORS)
        self._idle_timeout_s = idle_timeout_s
        self.started = False  # the 200 went out: the answer is the ack stream
        self.body_complete = False  # the producer ended its body properly (the connection can be reused)
        self.sent = 0  # bytes of acks sent (for the request's log line)

    def chunks(self) -> Iterator[bytes]:
        """The body's chunks as they arrive; SessionInterrupted when the producer stalls or the connection breaks."""
        self._reader.deadline = time.monotonic() + self._idle_timeout_s
        try:
            for chunk in wire.iter_chunks(self._rfile, before_each=lambda size: None):
                yield chunk
                self._reader.deadline = time.monotonic() + self._idle_timeout_s
        except (wire.BadRequest, TimeoutError, OSError) as exc:
            raise SessionInterrupted(f"the PutMedia session ended without finishing its body: {exc}") from exc
        finally:
            self._reader.deadline = None
        self.body_complete = True

    def send(self, line: bytes) -> None:
        """Write one ack (a JSON line) as one chunk, the 200 and its headers first."""
        block = b"%x\r\n%s\r\n" % (len(line), line)
        self.sent += len(line)
        if not self.started:
            head = [f"{name}: {value}" for name, value in self._headers]
            lines = ["HTTP/1.1 200 OK", "Content-Type: application/json", "Transfer-Encoding: chunked", *head]
            block = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace") + block
            self.started = True
        self._write(block)

    def finish(self) -> None:
        """End the ack stream (the terminating chunk)."""
        if self.started:
            self._write(b"0\r\n\r\n")

    def _write(self, data: bytes) -> None:
        write_now(self._wfile, data, "the producer stopped reading acks")


def write_now(wfile: io.BufferedIOBase, data: bytes, gone: str) -> None:
    """Write and flush ``data``; SessionInterrupted (``gone``, and why) when the peer no longer reads."""
    try:
        wfile.write(data)
        wfile.flush()
    except OSError as exc:
        raise SessionInterrupted(f"{gone}: {exc}") from exc
