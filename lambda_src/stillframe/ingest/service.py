"""Store an upload's fragments: timestamps in both timelines, exactly once even across crashes, one ack each.

Used by PutMedia (HTTP body) and the S3 drop zone (a large object); both hand in an iterator of
``MediaFragment`` from ``stillframe.media.split``.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stillframe.catalog.arrivals import ARRIVALS
from stillframe.catalog.fragments import MAX_FRAGMENT_MS, FragmentIndex
from stillframe.catalog.keys import FragmentRecord
from stillframe.catalog.stream_record import StreamRecord
from stillframe.domain.acks import FragmentAck
from stillframe.domain.clocks import TimecodeType
from stillframe.observability import metrics

if TYPE_CHECKING:
    from stillframe.delivery.worker import Deliveries
    from stillframe.media.split import MediaFragment

logger = logging.getLogger(__name__)

TARGET_FRAGMENT_MS = 2000  # the splitter cuts at the first key frame after this much media
# KVS PutMedia error codes, as its acks report them.
MAX_FRAGMENT_SIZE_REACHED = 4001
MAX_FRAGMENT_DURATION_REACHED = 4002
INVALID_PRODUCER_TIMESTAMP = 4007
# The most frames one GOP may hold: 20 s (KVS's longest fragment) at 60 fps. A still deep in a GOP costs every
# reference frame before it, so this bounds the decoding one sample can ask for (issue 18: one 19.9 s GOP at
# 1000 fps made a single sample decode 19,900 frames). A longer GOP is refused as too large a fragment.
MAX_GOP_FRAMES = 1200


@dataclass(frozen=True)
class UploadClock:
    """The times an upload is placed at: server receive time and producer start (epoch ms)."""

    received_ms: int
    producer_start_ms: int
    timecode_type: TimecodeType = TimecodeType.RELATIVE

    def producer_ms(self, fragment: MediaFragment) -> int:
        """The fragment's producer time under this upload's timecode type."""
        return self.timecode_type.producer_ms(
            producer_start_ms=self.producer_start_ms, pts_ms=fragment.pts_ms, offset_ms=fragment.offset_ms
        )


def require_retention(stream: StreamRecord) -> None:
    """Media sent to a stream that keeps nothing would be lost: refuse it instead."""
    stream.require_retention("media would not be kept; give the stream a retention period (UpdateDataRetention).")


def fragment_number(received_ms: int, sequence: int) -> str:
    """A decimal number that grows with ingestion order: receive ms, position in the upload, randomness."""
    return f"{received_ms:013d}{sequence:05d}{secrets.randbelow(10**6):06d}"


def store_fragments(
    stream: StreamRecord,
    fragments: Iterable[MediaFragment],
    clock: UploadClock,
    index: FragmentIndex,
    deliveries: Deliveries | None = None,
) -> list[FragmentAck]:
    """Store each fragment (or find it already stored) and return one KVS-style ack per fragment.

    A fragment carrying KVS's image-generation tag gets a delivery job (``deliveries``) before its ack, when the
    stream's image generation configuration is ENABLED; its images are made later, in the background.
    """
    acks: list[FragmentAck] = []
    for sequence, fragment in enumerate(fragments):
        timecode = clock.timecode_type.ack_timecode(pts_ms=fragment.pts_ms, offset_ms=fragment.offset_ms)
        producer_ms = clock.producer_ms(fragment)
        refusal = _refusal(fragment, producer_ms)
        if refusal is not None:
            acks.append(FragmentAck.error(timecode, *refusal))
            continue
        # A fragment seen before (even by an upload cut short by a crash) keeps its first number.
        record = index.add(
            FragmentRecord(
                stream=stream.media_id,
                number=fragment_number(clock.received_ms, sequence),
                server_ms=clock.received_ms + fragment.offset_ms,
                producer_ms=producer_ms,
                duration_ms=fragment.duration_ms,
                size=len(fragment.data),
            ),
            fragment.data,
        )
        if deliveries is not None and fragment.image_generation:
            deliveries.enqueue(stream, record)
        ARRIVALS.announce(stream.media_id)  # before its ack: a GetMedia tail may see it as soon as its producer
        acks.append(FragmentAck.persisted(timecode, record.number))
    persisted = sum(1 for ack in acks if ack.is_persisted)
    metrics.add_metric(name="FragmentsPersisted", unit="Count", value=persisted)
    logger.info("upload stored", extra={"stream": stream.name, "fragments": len(acks), "persisted": persisted})
    return acks


def _refusal(fragment: MediaFragment, producer_ms: int) -> tuple[int, str] | None:
    """The KVS error id and sentence of a fragment that is not stored, or None."""
    if fragment.duration_ms > MAX_FRAGMENT_MS:
        return MAX_FRAGMENT_DURATION_REACHED, f"fragment lasts {fragment.duration_ms} ms"
    if fragment.longest_gop > MAX_GOP_FRAMES:
        return MAX_FRAGMENT_SIZE_REACHED, (
            f"a GOP of {fragment.longest_gop} frames: at most {MAX_GOP_FRAMES} frames between key frames are "
            "accepted (encode with a shorter key frame interval)"
        )
    if producer_ms < 0:
        return INVALID_PRODUCER_TIMESTAMP, "producer timestamp before 1970"
    return None
