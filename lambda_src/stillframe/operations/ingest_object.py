"""The S3 drop zone's operation: an object under ``incoming/<stream>/`` is split into fragments, then removed.

For files too large for PutMedia. The producer start time comes from the file name when it starts with a
timestamp and an underscore (``incoming/cam/2026-11-26T10:00:00Z_lobby.mp4`` or ``incoming/cam/1795600800_lobby.mp4``),
else from the time the caller gives (the S3 event's). The incoming object is deleted only once every one of its
fragments is stored: a failure leaves it for the retry, and an object with a fragment refused (an ERROR ack, e.g. a
GOP over 1,200 frames) stays where it is, the refusals logged, so nothing of it is lost (its stored fragments are
not stored twice if it is sent again). The Lambda entry point is ``stillframe.handlers.dropzone``.
"""

from __future__ import annotations

import logging
import tempfile
from typing import TYPE_CHECKING, Any

from stillframe.catalog.fragments import FragmentIndex
from stillframe.catalog.streams import StreamCatalog
from stillframe.domain.acks import FragmentAck
from stillframe.domain.timestamps import millis
from stillframe.errors import InvalidArgumentError
from stillframe.ingest.service import TARGET_FRAGMENT_MS, UploadClock, require_retention, store_fragments
from stillframe.storage.port import ObjectStore

if TYPE_CHECKING:
    from stillframe.delivery.worker import Deliveries

logger = logging.getLogger(__name__)

INCOMING = "incoming/"
DOWNLOAD_CHUNK = 8 * 1024 * 1024


def stream_of(key: str) -> str:
    """The stream an incoming key belongs to (``incoming/<stream>/<file>``)."""
    parts = key.split("/")
    if len(parts) < 3 or parts[0] + "/" != INCOMING or not parts[1]:
        raise InvalidArgumentError(f"{key} is not under incoming/<stream>/")
    return parts[1]


def ingest_object(
    key: str,
    *,
    store: ObjectStore,
    streams: StreamCatalog,
    fragments: FragmentIndex,
    deliveries: Deliveries | None,
    producer_start_ms: int,
    now_ms: int,
) -> list[FragmentAck]:
    """Split one incoming object into fragments of its stream, store them, then delete the object; the acks."""
    from stillframe.media.split import iter_fragments

    stream = streams.find(stream_of(key))
    require_retention(stream)
    with tempfile.NamedTemporaryFile(suffix=".media") as spool:
        _download(store, key, spool)
        clock = UploadClock(received_ms=now_ms, producer_start_ms=producer_start_ms)
        pieces = iter_fragments(spool.name, target_ms=TARGET_FRAGMENT_MS)
        acks = store_fragments(stream, pieces, clock, fragments, deliveries)
    refused = [ack for ack in acks if not ack.is_persisted]
    if refused:
        logger.warning(
            "incoming object kept: some of its fragments were refused",
            extra={
                "key": key,
                "fragments": len(acks),
                "refused": [f"{ack.timecode} ms: {ack.error_id} {ack.error_message}" for ack in refused],
            },
        )
        return acks
    store.delete(key)
    logger.info("incoming object ingested", extra={"key": key, "fragments": len(acks)})
    return acks


def producer_start_ms(key: str, *, otherwise_ms: int) -> int:
    """The timestamp the file name starts with, else ``otherwise_ms``."""
    name = key.rsplit("/", 1)[-1]
    if "_" in name:
        stamp = name.split("_", 1)[0]
        try:
            return millis(float(stamp) if stamp.replace(".", "", 1).isdigit() else stamp)
        except ValueError:
            pass  # not a timestamp: an ordinary file name
    return otherwise_ms


def _download(store: ObjectStore, key: str, spool: Any) -> None:
    """Copy the object to a local file in ranged reads (it may be larger than memory)."""
    size = store.head(key).size
    for start in range(0, size, DOWNLOAD_CHUNK):
        spool.write(store.get_range(key, start, min(size, start + DOWNLOAD_CHUNK) - 1))
    spool.flush()
