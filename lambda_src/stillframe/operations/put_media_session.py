"""PutMedia as a live session: a producer's Matroska stream in, one stored fragment and its acks per cluster out.

What the KVS producer SDKs expect of one long PutMedia: for each cluster (a producer's fragment) BUFFERING as it
starts, RECEIVED when it is complete, then PERSISTED once it is durable, or ERROR with KVS's error id and nothing
of it stored; every ack carries the cluster's own timecode, which is how the producer matches them. A cluster is
stamped with the server time its first byte arrived. The function is a generator over the incoming chunks, so a
transport that streams (``stillframe serve``) writes each ack as it is made, and one that buffers (Lambda) could
collect them; memory is bounded by one cluster whatever the session's length.

Per cluster the splitter's costs that belong to the track, not the cluster, are paid once: FFmpeg does not probe
(serve's reader cut the cluster behind the Tracks it read), and the display transform read from the first cluster's
key frame holds for every later cluster under the same Segment header (``SessionTrack``).

A replayed cluster (a producer that reconnects sends every fragment not yet PERSISTED again) is stored once: the
fragment index deduplicates by content and producer time, and the replay is acked PERSISTED with the first number.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stillframe.catalog.fragments import FragmentIndex
from stillframe.catalog.stream_record import StreamRecord
from stillframe.domain.acks import AckEvent, FragmentAck
from stillframe.domain.clocks import TimecodeType
from stillframe.domain.put_media_headers import PutMediaHeaders
from stillframe.errors import MediaError, SessionInterrupted
from stillframe.ingest.service import UploadClock, store_fragments
from stillframe.media.mkv_stream import INVALID_MKV_DATA, ClusterComplete, ClusterStarted, StreamError, read_clusters

if TYPE_CHECKING:
    from stillframe.delivery.worker import Deliveries
    from stillframe.media.display import Display

logger = logging.getLogger(__name__)

MAX_CLUSTER_BYTES = 50 * 1024 * 1024  # KVS's largest fragment
FRAGMENT_TIMECODE_NOT_MONOTONIC = 4004
ARCHIVAL_ERROR = 5001
IMAGE_GENERATION_TAG = b"AWS_KINESISVIDEO_IMAGE_GENERATION"
_ONE_FRAGMENT_MS = 10**9  # the splitter's target: never cut a cluster at its key frames


@dataclass
class SessionTrack:
    """What the session's clusters share while their Segment header stays the same: how a player shows the track
    (read by the splitter from the first stored cluster's key frame; a new header reads it again)."""

    header: bytes = b""
    display: Display | None = None

    def display_for(self, cluster: ClusterComplete) -> Display | None:
        """The display transform already read for this cluster's header, else None (the splitter reads it)."""
        return self.display if cluster.header == self.header else None

    def learn(self, cluster: ClusterComplete, display: Display) -> None:
        self.header, self.display = cluster.header, display


def put_media_session(
    chunks: Iterable[bytes],
    headers: PutMediaHeaders,
    stream: StreamRecord,
    *,
    fragments: FragmentIndex,
    deliveries: Deliveries | None,
    now_ms: Callable[[], int],
) -> Iterator[FragmentAck]:
    """The acks of one session, in order, as its clusters arrive (module docstring).

    The stream was found and its retention checked when the session was opened. A stream that is not Matroska as
    producers send it ends the session after an ERROR ack; a transport error (the connection cut) ends it with
    nothing of the unfinished cluster stored.
    """
    producer_start_ms = headers.producer_start_ms if headers.producer_start_ms is not None else now_ms()
    arrived_ms = now_ms()
    last_timecode: int | None = None
    stored = 0
    track = SessionTrack()
    try:
        for event in read_clusters(chunks, max_cluster_bytes=MAX_CLUSTER_BYTES):
            if isinstance(event, ClusterStarted):
                arrived_ms = now_ms()
                yield FragmentAck.event(AckEvent.BUFFERING, event.timecode)
                continue
            yield FragmentAck.event(AckEvent.RECEIVED, event.timecode)
            if last_timecode is not None and event.timecode <= last_timecode:
                yield FragmentAck.error(
                    event.timecode,
                    FRAGMENT_TIMECODE_NOT_MONOTONIC,
                    f"cluster timecode {event.timecode} does not follow {last_timecode}",
                )
                continue
            last_timecode = event.timecode
            ack = _store(event, headers, stream, fragments, deliveries, (arrived_ms, producer_start_ms), track)
            stored += ack.is_persisted
            yield ack
    except StreamError as exc:
        yield FragmentAck.error(last_timecode or 0, exc.error_id, str(exc))
    except SessionInterrupted as exc:  # the connection is gone: no one to answer; the cut cluster is not stored
        logger.info("put-media session interrupted", extra={"stream": stream.name, "reason": str(exc)})
    finally:
        logger.info("put-media session ended", extra={"stream": stream.name, "fragments": stored})


def _store(
    cluster: ClusterComplete,
    headers: PutMediaHeaders,
    stream: StreamRecord,
    fragments: FragmentIndex,
    deliveries: Deliveries | None,
    times_ms: tuple[int, int],
    track: SessionTrack,
) -> FragmentAck:
    """Store one cluster as one fragment; its ack carries the cluster's timecode. ``times_ms``: the cluster's
    arrival and the producer's start."""
    from stillframe.media.split import iter_fragments

    if not cluster.key_frame_first:
        return FragmentAck.error(cluster.timecode, INVALID_MKV_DATA, "a cluster must start with a key frame")
    arrived_ms, producer_start_ms = times_ms
    try:
        pieces = list(
            iter_fragments(
                cluster.media,
                target_ms=_ONE_FRAGMENT_MS,
                image_generation=IMAGE_GENERATION_TAG in cluster.tags,
                display=track.display_for(cluster),
                probe=False,
            )
        )
    except MediaError as exc:
        return FragmentAck.error(cluster.timecode, INVALID_MKV_DATA, f"the cluster cannot be read: {exc}")
    if pieces:
        track.learn(cluster, pieces[0].display)
    if headers.timecode_type is TimecodeType.ABSOLUTE:
        clock = UploadClock(arrived_ms, producer_start_ms, TimecodeType.ABSOLUTE)
    else:  # RELATIVE: cluster timecodes count from the producer start
        clock = UploadClock(received_ms=arrived_ms, producer_start_ms=producer_start_ms + cluster.timecode_ms)
    try:
        acks = store_fragments(stream, pieces, clock, fragments, deliveries)
    except Exception as exc:  # the store failed: the producer keeps the fragment and sends it again
        logger.exception("cluster not stored", extra={"stream": stream.name})
        return FragmentAck.error(cluster.timecode, ARCHIVAL_ERROR, f"the fragment could not be stored: {exc}")
    if not acks:
        return FragmentAck.error(cluster.timecode, INVALID_MKV_DATA, "the cluster holds no video frame")
    refused = next((ack for ack in acks if not ack.is_persisted), None)
    if refused is not None:
        return FragmentAck.error(cluster.timecode, refused.error_id or INVALID_MKV_DATA, refused.error_message or "")
    return FragmentAck.persisted(cluster.timecode, acks[0].number or "")
