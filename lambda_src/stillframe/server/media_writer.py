"""A streaming GetMedia on ``stillframe serve``: the answer's body written chunk by chunk as fragments come.

serve hands the API handler an invocation context carrying a ``MediaWriter`` (the PutMedia session's counterpart,
``server.session``). Once the request is valid the route calls ``start()`` (the ``200`` and its headers go out at
once, so a client waiting for a live tail gets its response before the first fragment), then ``write()`` for each
fragment: one chunk each, flushed. Errors found before ``start()`` are answered as usual. ``alive()`` tells the
handler, while it waits for new fragments, whether the client is still there and the server still running; a write
to a client that went away raises ``SessionInterrupted``.
"""

from __future__ import annotations

import contextlib
import io
import select
import socket
from collections.abc import Callable
from urllib.parse import unquote

from stillframe.errors import SessionInterrupted
from stillframe.server.session import write_now

GET_MEDIA = "/getMedia"


def is_media_read(method: str, target: str) -> bool:
    """A GetMedia: its answer streams for as long as the client reads it."""
    return method == "POST" and unquote(target.split("?", 1)[0]) == GET_MEDIA


class MediaWriter:
    """One GetMedia answer over its connection."""

    def __init__(
        self,
        conn: socket.socket,
        wfile: io.BufferedIOBase,
        *,
        headers: list[tuple[str, str]],
        content_type: str,
        running: Callable[[], bool],
    ) -> None:
        self._conn = conn
        self._wfile = wfile
        self._headers = headers  # of the 200 (request id, CORS)
        self._content_type = content_type
        self._running = running
        self.started = False  # the 200 went out: the answer is the media stream
        self.broken = False  # the client went away (or stopped reading) during the answer

    def start(self) -> None:
        """Send the 200 and its headers (once)."""
        if self.started:
            return
        head = [f"{name}: {value}" for name, value in self._headers]
        lines = ["HTTP/1.1 200 OK", f"Content-Type: {self._content_type}", "Transfer-Encoding: chunked", *head]
        self.started = True
        self._write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace"))

    def write(self, data: bytes) -> None:
        """Send ``data`` as one chunk (the head first if it has not gone out)."""
        self.start()
        if data:
            self._write(b"%x\r\n" % len(data) + data + b"\r\n")

    def alive(self) -> bool:
        """Whether the client still listens and the server is not stopping (a closed connection reads as EOF)."""
        if self.broken or not self._running():
            return False
        try:
            readable, _, _ = select.select([self._conn], [], [], 0)
            if not readable:
                return True
            return self._conn.recv(1, socket.MSG_PEEK) != b""
        except ValueError:  # TLS sockets refuse MSG_PEEK: the next write finds a gone client instead
            return True
        except OSError:
            return False

    def finish(self) -> None:
        """End the body (the terminating chunk), when the client is still there to read it."""
        if self.started and not self.broken:
            with contextlib.suppress(SessionInterrupted):  # gone at the very end: nothing more to tell it
                self._write(b"0\r\n\r\n")

    def _write(self, data: bytes) -> None:
        try:
            write_now(self._wfile, data, "the GetMedia client stopped reading")
        except SessionInterrupted:
            self.broken = True
            raise
