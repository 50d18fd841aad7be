"""The S3 drop zone: an object under ``incoming/<stream>/`` is split into fragments, then removed.

For files too large for PutMedia. The producer start time comes from the file name when it starts
with a timestamp and an underscore (``incoming/cam/2026-11-26T10:00:00Z_lobby.mp4`` or
``incoming/cam/1795600800_lobby.mp4``), else from the S3 event time (when the object was created).
Any failure raises, so the asynchronous invocation is retried and finally lands in the DLQ; the
incoming object is deleted only after all of its fragments are stored.
"""

from __future__ import annotations

import tempfile
import time
from datetime import datetime
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.typing import LambdaContext

from stillframe.catalog.streams import StreamRecord
from stillframe.domain.timestamps import millis
from stillframe.errors import InvalidArgumentError
from stillframe.ingest.put_media import TARGET_FRAGMENT_MS
from stillframe.ingest.service import UploadClock, require_retention, store_fragments
from stillframe.observability import logger, metrics, tracer
from stillframe.storage.port import ObjectStore
from stillframe.wiring import Services, services

INCOMING = "incoming/"
DOWNLOAD_CHUNK = 8 * 1024 * 1024


def stream_of(key: str) -> str:
    """The stream an incoming key belongs to (``incoming/<stream>/<file>``)."""
    parts = key.split("/")
    if len(parts) < 3 or parts[0] + "/" != INCOMING or not parts[1]:
        raise InvalidArgumentError(f"{key} is not under incoming/<stream>/")
    return parts[1]


def ingest_object(svc: Services, key: str, *, producer_start_ms: int, now_ms: int) -> list[dict[str, Any]]:
    """Split one incoming object into fragments of its stream, store them, then delete the object."""
    from stillframe.media.split import iter_fragments

    stream: StreamRecord = svc.streams.find(stream_of(key))
    require_retention(stream)
    with tempfile.NamedTemporaryFile(suffix=".media") as spool:
        _download(svc.store, key, spool)
        clock = UploadClock(received_ms=now_ms, producer_start_ms=producer_start_ms)
        fragments = iter_fragments(spool.name, target_ms=TARGET_FRAGMENT_MS)
        acks = store_fragments(stream, fragments, clock, svc.fragments, svc.deliveries)
    svc.store.delete(key)
    logger.info("incoming object ingested", extra={"key": key, "fragments": len(acks)})
    return acks


def _download(store: ObjectStore, key: str, spool: Any) -> None:
    """Copy the object to a local file in ranged reads (it may be larger than memory)."""
    size = store.head(key).size
    for start in range(0, size, DOWNLOAD_CHUNK):
        spool.write(store.get_range(key, start, min(size, start + DOWNLOAD_CHUNK) - 1))
    spool.flush()


def _store_key(svc: Services, s3_key: str) -> str:
    prefix = svc.settings.prefix
    return s3_key[len(prefix) :] if prefix and s3_key.startswith(prefix) else s3_key


def producer_start_ms(key: str, record: dict[str, Any]) -> int:
    """The timestamp a file name starts with, else the event time."""
    name = key.rsplit("/", 1)[-1]
    if "_" in name:
        stamp = name.split("_", 1)[0]
        try:
            return millis(float(stamp) if stamp.replace(".", "", 1).isdigit() else stamp)
        except ValueError:
            pass  # not a timestamp: an ordinary file name
    return _event_ms(record)


def _event_ms(record: dict[str, Any]) -> int:
    event_time = record.get("eventTime")
    if event_time:
        return int(datetime.fromisoformat(event_time.replace("Z", "+00:00")).timestamp() * 1000)
    return int(time.time() * 1000)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """S3 ObjectCreated notifications for ``incoming/``; raises on failure so the event is retried."""
    svc = services()
    ingested = 0
    for record in event.get("Records", []):
        key = _store_key(svc, unquote_plus(record["s3"]["object"]["key"]))
        start = producer_start_ms(key, record)
        acks = ingest_object(svc, key, producer_start_ms=start, now_ms=int(time.time() * 1000))
        ingested += sum(1 for ack in acks if ack["EventType"] == "PERSISTED")
    return {"fragments": ingested}
