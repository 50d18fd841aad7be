"""GetMedia: a stream's fragments from a starting point on, in the order they were stored, as Matroska bytes.

The order is ingestion order, as KVS's: fragment numbers grow with it (``ingest.service.fragment_number``). Each
fragment goes out as GetMediaForFragmentList sends it (its number, server and producer timestamps as tags),
followed by a Tags element with KVS's ``AWS_KINESISVIDEO_CONTINUATION_TOKEN`` (and ``_MILLIS_BEHIND_NOW``): a
request with that token continues right after the fragment. The token is an authenticated NextToken
(``domain.token``, in GetMedia's alphabet) over the fragment's number, bound to the stream's ARN, so it cannot be
forged or used on another stream.

The function checks the request and finds the start before it returns, so its errors are answered as usual; the
media comes from the iterator it returns, one fragment in memory at a time. ``Follow`` says how long it runs: a
transport that streams (serve) follows the stream once caught up, waking as fragments arrive (``catalog.arrivals``,
with a poll of the index for other processes) until the client goes, the stream is deleted or the server stops;
one that buffers (Lambda) ends when caught up, at its byte cap or at its deadline, and the client goes on with the
token of the last fragment it received.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from stillframe.catalog.arrivals import Arrivals
from stillframe.catalog.fragments import MAX_FRAGMENT_MS, FragmentIndex
from stillframe.catalog.keys import LAST_INDEXED_MS, FragmentRecord
from stillframe.catalog.stream_record import StreamRecord, StreamStatus
from stillframe.catalog.streams import StreamCatalog
from stillframe.domain.clocks import Timeline
from stillframe.domain.media_requests import GetMediaRequest
from stillframe.domain.token import TokenCodec, for_stream
from stillframe.errors import InvalidArgumentError, ResourceNotFoundError, StillframeError
from stillframe.operations.get_media_for_fragment_list import tagged_media

logger = logging.getLogger(__name__)

CONTENT_TYPE = "video/webm"  # KVS's GetMedia Content-Type
POLL_S = 1.0  # how often a caught-up reader looks at the index itself (fragments stored by another process)
NOW_LOOKBACK_MS = MAX_FRAGMENT_MS  # NOW: the newest fragment is looked for this far back
FIRST_WAIT_S = 2.0  # buffered: how long an answer with nothing to send yet waits for a first fragment
BUFFERED_MARGIN_S = 3.0  # buffered: time kept to send the answer (base64 through API Gateway) before the deadline
_END = LAST_INDEXED_MS
_NUMBER_TAIL_DIGITS = 11  # a fragment number: its upload's receive ms, then 5 digits of sequence and 6 random ones


@dataclass(frozen=True)
class Follow:
    """How long one GetMedia answer runs.

    ``follow``: keep waiting for new fragments once caught up (a streaming transport); else end when caught up,
    after waiting at most ``first_wait_s`` for a first fragment. ``max_bytes``: end before a fragment that would
    pass it. ``deadline``: ``time.monotonic()`` after which no fragment is started. ``alive``: whether the client
    still listens (checked while waiting).
    """

    follow: bool
    max_bytes: int | None = None
    first_wait_s: float = 0.0
    deadline: float | None = None
    alive: Callable[[], bool] = lambda: True


def get_media(
    request: GetMediaRequest,
    *,
    streams: StreamCatalog,
    fragments: FragmentIndex,
    tokens: TokenCodec,
    arrivals: Arrivals,
    now_ms: Callable[[], int],
    follow: Follow,
) -> Iterator[bytes]:
    """The media from the request's StartSelector on (module docstring); errors are raised before it returns."""
    stream = streams.find(request.stream.stream_name, request.stream.arn)
    if stream.retention_hours == 0:
        raise ResourceNotFoundError(
            f"The stream {stream.name} keeps no media (DataRetentionInHours is 0): nothing can be read from it; "
            "give it a retention period (UpdateDataRetention)"
        )
    binding = for_stream(request.binding(), stream.arn)
    position = _start_after(request, stream, fragments, tokens, binding, now_ms())
    reader = _Reader(stream, fragments, arrivals, tokens, binding, now_ms)
    return reader.media(position, follow, streams)


def buffered_time_s(remaining_ms: int) -> float:
    """How long a buffered answer may read fragments, given the caller's time left."""
    return max(0.5, remaining_ms / 1000 - BUFFERED_MARGIN_S)


def _start_after(
    request: GetMediaRequest,
    stream: StreamRecord,
    fragments: FragmentIndex,
    tokens: TokenCodec,
    binding: bytes,
    now: int,
) -> _Position:
    """Where the answer starts: after which fragment number, in ingestion order."""
    start = request.start
    if start.selector == "EARLIEST":
        return _Position(0, stream.retention_cutoff(now))
    if start.selector == "NOW":
        return _newest(stream, fragments, now)
    if start.selector == "CONTINUATION_TOKEN":
        cursor = tokens.decode_continuation(start.continuation_token or "", binding)
        if not cursor.isdigit():  # authentic, so only a token of another version of this code gets here
            raise InvalidArgumentError("StartSelector.ContinuationToken is no longer understood")
        return _Position.after(int(cursor))
    if start.selector == "FRAGMENT_NUMBER":
        number = start.after_fragment or ""
        record = fragments.by_number(stream.media_id, number)
        if record is None or not stream.retains(record, now_ms=now):
            raise ResourceNotFoundError(
                f"Fragment {number} is not in stream {stream.name} (or is no longer retained): "
                "StartSelector.AfterFragmentNumber must name one of its fragments"
            )
        return _Position.after(int(number))
    timeline = Timeline.SERVER if start.selector == "SERVER_TIMESTAMP" else Timeline.PRODUCER
    found = _at_time(stream, fragments, timeline, start.start_ms or 0, now)
    if found is None:  # nothing at or after the time yet: the next fragment stored is the first
        return _newest(stream, fragments, now)
    return _Position.after(int(found.number) - 1)


@dataclass(frozen=True)
class _Position:
    """After fragment number ``number`` in ingestion order; no later fragment starts before ``lowest_ms``
    (server time): a fragment's number begins with the ms its upload was received, and its server timestamp is
    at or after that."""

    number: int
    lowest_ms: int

    @classmethod
    def after(cls, number: int) -> _Position:
        return cls(number, _received_ms(number))


def _received_ms(number: int) -> int:
    """The receive time a fragment number starts with (``ingest.service.fragment_number``), else 0."""
    text = str(number)
    return int(text[:-_NUMBER_TAIL_DIGITS]) if len(text) > _NUMBER_TAIL_DIGITS else 0


def _newest(stream: StreamRecord, fragments: FragmentIndex, now: int) -> _Position:
    """After the newest fragment stored (NOW: only what is stored from here on is sent). A fragment received in
    the last ``NOW_LOOKBACK_MS`` has a server timestamp after it; none: a number before any received since."""
    since = max(1, now - NOW_LOOKBACK_MS)
    numbers = [int(record.number) for _, record in fragments.scan(stream.media_id, Timeline.SERVER, since, _END)]
    return _Position.after(max(numbers, default=since * 10**_NUMBER_TAIL_DIGITS))


def _at_time(
    stream: StreamRecord, fragments: FragmentIndex, timeline: Timeline, at_ms: int, now: int
) -> FragmentRecord | None:
    """The retained fragment covering ``at_ms`` in ``timeline``, else the first one starting after it, or None."""
    retained = (
        record
        for _, record in fragments.scan(stream.media_id, timeline, max(1, at_ms - MAX_FRAGMENT_MS), _END)
        if stream.retains(record, now_ms=now)
    )
    for record in retained:
        start = record.start(timeline)
        if start <= at_ms < start + max(1, record.duration_ms) or start >= at_ms:
            return record
    return None


class _Reader:
    """One answer's walk along the stream's server-timeline index."""

    def __init__(
        self,
        stream: StreamRecord,
        fragments: FragmentIndex,
        arrivals: Arrivals,
        tokens: TokenCodec,
        binding: bytes,
        now_ms: Callable[[], int],
    ) -> None:
        self._stream = stream
        self._fragments = fragments
        self._arrivals = arrivals
        self._tokens = tokens
        self._binding = binding
        self._now_ms = now_ms

    def media(self, position: _Position, follow: Follow, streams: StreamCatalog) -> Iterator[bytes]:
        """Each fragment after ``position`` with its tags, then (following) each new one as it is stored."""
        started, sent, count = time.monotonic(), 0, 0
        media_id = self._stream.media_id
        try:
            while True:
                seen = self._arrivals.count(media_id)
                for record in self._after(position):
                    if follow.deadline is not None and time.monotonic() >= follow.deadline:
                        return
                    data = self._fragment(record)
                    if follow.max_bytes is not None and sent + len(data) > follow.max_bytes:
                        if count == 0:
                            raise InvalidArgumentError(
                                f"Fragment {record.number} takes {len(data):,} bytes, over the "
                                f"{follow.max_bytes:,} bytes this endpoint answers with: read it from `stillframe "
                                "serve` or with GetMediaForFragmentList from an endpoint without this limit"
                            )
                        return
                    position = _Position(int(record.number), max(position.lowest_ms, _received_ms(int(record.number))))
                    sent, count = sent + len(data), count + 1
                    yield data
                if not self._waits_on(follow, count, started, streams):
                    return
                self._arrivals.wait(media_id, seen, POLL_S)
        finally:
            logger.info("media served", extra={"stream": self._stream.name, "fragments": count, "bytes": sent})

    def _after(self, position: _Position) -> list[FragmentRecord]:
        """The retained fragments stored after ``position``, in ingestion (fragment number) order.

        Only index entries (not media) are held: every marker from the position's lowest server time on is read,
        since a fragment stored later may carry an earlier server timestamp than one stored before it (an upload's
        fragments are stamped at its receive time plus their offset).
        """
        now = self._now_ms()
        lowest = max(1, position.lowest_ms, self._stream.retention_cutoff(now))
        found = {
            record.number: record
            for _, record in self._fragments.scan(self._stream.media_id, Timeline.SERVER, lowest, _END)
            if int(record.number) > position.number and self._stream.retains(record, now_ms=now)
        }
        return sorted(found.values(), key=lambda record: int(record.number))

    def _waits_on(self, follow: Follow, count: int, started: float, streams: StreamCatalog) -> bool:
        """Once caught up: whether to wait for the next fragment."""
        if follow.follow:
            return follow.alive() and self._stream_lives(streams)
        waited = time.monotonic() - started
        in_time = follow.deadline is None or time.monotonic() < follow.deadline
        return count == 0 and waited < follow.first_wait_s and in_time

    def _stream_lives(self, streams: StreamCatalog) -> bool:
        """The stream read from is still there (not deleted, not replaced by a new one of the same name)."""
        try:
            current = streams.load(self._stream.name)
        except StillframeError:
            return True  # a storage hiccup is not a deletion: look again at the next wait
        return current is not None and current.arn == self._stream.arn and current.status != StreamStatus.DELETING

    def _fragment(self, record: FragmentRecord) -> bytes:
        from stillframe.media.fragment_tags import trailing_tags, with_trailing_tags  # PyAV: not at cold start

        token = self._tokens.encode_continuation(self._binding, record.number)
        behind = self._now_ms() - record.server_ms - record.duration_ms
        return with_trailing_tags(tagged_media(self._fragments, record), trailing_tags(token, behind))
