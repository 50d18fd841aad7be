"""A live source uploaded through one PutMedia session, as KVS producers do: chunks streamed, acks read meanwhile.

The splitter runs in a thread (reading a live source blocks) and each ~2 s chunk goes into the open session as
soon as it is complete, as a Segment whose cluster is timed at the chunk's offset (``clusters.session_body``). A
chunk is kept until its PERSISTED (or ERROR) ack arrives; when the connection breaks, a new session is opened
after the usual backoff and every chunk not yet acknowledged is sent again, as the producer SDKs replay (the
server stores a replayed fragment once). ``max_attempts`` connections in a row without a PERSISTED ack end the
upload with ChunkFailed; an answer other than ``200`` that retrying cannot change, with ChunkRejected. At the end
the body stays open until the last chunk is acknowledged, then is ended.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from stillframe.domain.acks import is_error, is_persisted
from stillframe.uploader import (
    BACKOFF_BASE_S,
    LIVE_CHUNK_TARGET_MS,
    MAX_ATTEMPTS,
    MAX_CHUNK_BYTES,
    Chunk,
    ChunkFailed,
    ChunkRejected,
    ChunkResult,
    PutMediaTarget,
    Splitter,
    TransientError,
    backoff_delay,
    error_details,
    is_retryable,
)
from stillframe.uploader.clusters import session_body
from stillframe.uploader.session import Ack, Closed, Refused, SessionConnection

logger = logging.getLogger(__name__)

END_WAIT_S = 5.0  # how long the service may take to end its ack stream once the body is complete


@dataclass(frozen=True)
class SourceChunk:
    """The splitter completed a chunk."""

    chunk: Chunk


@dataclass(frozen=True)
class SourceEnded:
    """The splitter is done, or failed with ``error``."""

    error: BaseException | None = None


@dataclass
class _Sent:
    """A chunk in the session, kept until every one of its clusters is acknowledged."""

    index: int
    chunk: Chunk
    data: bytes
    open_timecodes: set[int]
    acks: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0

    def result(self) -> ChunkResult:
        chunk = self.chunk
        return ChunkResult(
            self.index, chunk.offset_ms, chunk.duration_ms, len(self.data), tuple(self.acks), self.attempts
        )


class LiveUpload:
    """The state of one live upload; ``run`` yields each chunk's result once it is acknowledged."""

    def __init__(
        self,
        connection: Callable[[], SessionConnection],
        target: PutMediaTarget,
        *,
        max_attempts: int = MAX_ATTEMPTS,
        backoff_base_s: float = BACKOFF_BASE_S,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._new_connection = connection
        self._relative = target.timecode_type == "RELATIVE"
        self._max_attempts = max_attempts
        self._backoff_base_s = backoff_base_s
        self._sleep = sleep
        self._events: queue.Queue[Any] = queue.Queue()
        self._sent: list[_Sent] = []
        self._connection: SessionConnection | None = None
        self._generation = 0
        self._failures = 0  # connections lost since the last PERSISTED
        self._reason = ""

    def run(self, chunks: Iterator[Chunk]) -> Iterator[ChunkResult]:
        """Send ``chunks`` (read in a thread) and yield each one's result in order; see the module docstring."""
        stop = threading.Event()
        threading.Thread(target=self._read_source, args=(chunks, stop), daemon=True).start()
        ended: SourceEnded | None = None
        count = 0
        try:
            while ended is None or self._sent:
                if self._connection is None and self._sent and self._events.empty():  # acks already read count
                    self._reconnect()
                    continue
                event = self._events.get()
                if isinstance(event, SourceEnded):
                    ended = event
                elif isinstance(event, SourceChunk):
                    self._send_new(event.chunk, count)
                    count += 1
                else:
                    yield from self._answer(event)
            self._finish()
        finally:
            stop.set()
            self._drop()
        if ended is not None and ended.error is not None:
            raise ended.error

    def _read_source(self, chunks: Iterator[Chunk], stop: threading.Event) -> None:
        try:
            for chunk in chunks:
                self._events.put(SourceChunk(chunk))
                if stop.is_set():
                    break
        except Exception as exc:  # reported by run(), in the caller's thread, once the sent chunks are acked
            self._events.put(SourceEnded(exc))
        else:
            self._events.put(SourceEnded())

    def _send_new(self, chunk: Chunk, index: int) -> None:
        body = session_body(chunk.data, chunk.offset_ms if self._relative else None)
        sent = _Sent(index, chunk, body.data, set(body.timecodes))
        self._sent.append(sent)
        if self._connection is not None:
            self._send(sent)

    def _send(self, sent: _Sent) -> None:
        assert self._connection is not None
        sent.attempts += 1
        try:
            self._connection.send(sent.data)
        except TransientError as exc:
            self._lost(str(exc))

    def _answer(self, event: Ack | Refused | Closed) -> Iterator[ChunkResult]:
        if isinstance(event, Ack):  # even from a connection given up since: what it acked was acked
            yield from self._acknowledged(event.ack)
        elif event.generation != self._generation:
            return  # the end of a connection already given up
        elif isinstance(event, Refused):
            code, message = error_details(event.reply)
            if not is_retryable(event.reply.status):
                raise ChunkRejected(self._sent[0].index, event.reply.status, code, message)
            self._lost(f"HTTP {event.reply.status} {code}: {message}")
        elif self._sent:
            self._lost(event.reason)
        else:
            self._drop()  # e.g. the service's idle timeout while the source was quiet: reopen with the next chunk

    def _acknowledged(self, ack: dict[str, Any]) -> Iterator[ChunkResult]:
        final = is_persisted(ack) or is_error(ack)
        timecode = ack.get("FragmentTimecode")
        owner = next((s for s in self._sent if timecode in s.open_timecodes), None)
        if owner is None and final and self._sent:
            owner = self._sent[0]  # an ERROR ending the session may name no cluster of ours
        if owner is None:
            return
        owner.acks.append(ack)
        if final and timecode in owner.open_timecodes:
            owner.open_timecodes.discard(timecode)
        elif final:
            owner.open_timecodes.clear()  # refused as a whole: nothing of it will be acked any more
        if is_persisted(ack):
            self._failures = 0
        while self._sent and not self._sent[0].open_timecodes:
            yield self._sent.pop(0).result()

    def _lost(self, reason: str) -> None:
        logger.warning("put-media session lost; reconnecting", extra={"reason": reason, "unacked": len(self._sent)})
        self._failures += 1
        self._reason = reason
        self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self._generation += 1

    def _reconnect(self) -> None:
        """Open a session (after the backoff if the last one failed) and send every unacknowledged chunk again."""
        if self._failures >= self._max_attempts:
            raise ChunkFailed(self._sent[0].index, self._failures, self._reason)
        if self._failures:
            self._sleep(backoff_delay(self._failures, self._backoff_base_s))
        connection = self._new_connection()
        try:
            connection.open(self._events, self._generation)
        except TransientError as exc:
            self._lost(str(exc))
            return
        self._connection = connection
        for sent in list(self._sent):
            if self._connection is None:
                return  # lost again: the acks already read are counted before the next attempt
            self._send(sent)

    def _finish(self) -> None:
        """End the body, then give the service a moment to end its ack stream."""
        if self._connection is None:
            return
        try:
            self._connection.end()
        except TransientError:
            return
        deadline = time.monotonic() + END_WAIT_S
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self._events.get(timeout=left)
            except queue.Empty:
                return
            if isinstance(event, Closed | Refused) and event.generation == self._generation:
                return


def upload_live(
    source: str,
    target: PutMediaTarget,
    connection: Callable[[], SessionConnection],
    *,
    splitter: Splitter,
    max_chunk_bytes: int = MAX_CHUNK_BYTES,
    chunk_target_ms: int = LIVE_CHUNK_TARGET_MS,
    max_attempts: int = MAX_ATTEMPTS,
    backoff_base_s: float = BACKOFF_BASE_S,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[ChunkResult]:
    """Cut the live ``source`` into ~2 s chunks and stream them through one session (module docstring).

    ``connection`` makes a new, unopened session for each (re)connect. The splitter's MediaError is raised once
    the chunks before it are acknowledged.
    """
    chunks = iter(splitter(source, target_ms=chunk_target_ms, max_bytes=max_chunk_bytes))
    upload = LiveUpload(connection, target, max_attempts=max_attempts, backoff_base_s=backoff_base_s, sleep=sleep)
    yield from upload.run(chunks)
