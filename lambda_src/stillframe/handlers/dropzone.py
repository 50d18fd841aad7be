"""Lambda entry point for the S3 drop zone: ObjectCreated events for ``incoming/`` (``operations.ingest_object``).

Any failure raises, so the asynchronous invocation is retried and finally lands in the DLQ. Deployed as
``stillframe.handlers.dropzone.lambda_handler`` (infra/constructs/runtime.py INGEST_HANDLER).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.typing import LambdaContext

from stillframe.observability import logger, metrics, tracer
from stillframe.operations.ingest_object import ingest_object, producer_start_ms
from stillframe.wiring import Services, services


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext, *, svc: Services | None = None) -> dict[str, Any]:
    """Ingest every object the event names; ``svc`` defaults to the process's services (tests pass their own)."""
    svc = svc or services()
    ingested = refused = 0
    for record in event.get("Records", []):
        key = _store_key(svc.settings.prefix, unquote_plus(record["s3"]["object"]["key"]))
        acks = ingest_object(
            key,
            store=svc.store,
            streams=svc.streams,
            fragments=svc.fragments,
            deliveries=svc.deliveries,
            producer_start_ms=producer_start_ms(key, otherwise_ms=_event_ms(record)),
            now_ms=int(time.time() * 1000),
        )
        ingested += sum(1 for ack in acks if ack.is_persisted)
        refused += sum(1 for ack in acks if not ack.is_persisted)
    return {"fragments": ingested, "refused": refused}


def _store_key(prefix: str, s3_key: str) -> str:
    """The store's key of an S3 key: the bucket prefix the store works under taken off."""
    return s3_key[len(prefix) :] if prefix and s3_key.startswith(prefix) else s3_key


def _event_ms(record: dict[str, Any]) -> int:
    """When S3 created the object (the event time), else now."""
    event_time = record.get("eventTime")
    if event_time:
        return int(datetime.fromisoformat(event_time.replace("Z", "+00:00")).timestamp() * 1000)
    return int(time.time() * 1000)
