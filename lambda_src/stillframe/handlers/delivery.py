"""The delivery function: SQS messages naming job markers -> the worker's single-job delivery; and the sweep.

Wiring only. Each SQS record is one job (``Deliverer.deliver``); a record that fails is reported back alone
(``batchItemFailures``), so SQS redelivers that message only, and after the queue's receive limit moves it to the
dead-letter queue. The hourly EventBridge schedule invokes the same function to queue again the markers a lost
message left behind (``queue.sweep``), and to finish deleting the media of streams whose DeleteStream ran out of
time (their ``purge/`` records, until done or this run's time is up; the next run resumes). The marker, not the
message, is the source of truth throughout.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from stillframe.delivery.queue import job_key, sweep
from stillframe.observability import logger, metrics, tracer
from stillframe.settings import SettingsError
from stillframe.wiring import Services, services

SCHEDULE_SOURCE = "aws.events"
PURGE_MARGIN_S = 10.0  # the scheduled run stops purging this long before its timeout
# A batch whose every job fails is answered like any other (each id reported), not raised: SQS's outcome is the
# same, and the function's Errors alarm stays for crashes of the handler itself.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def deliver_record(svc: Services, record: SQSRecord) -> int:
    """Deliver the job one message names; raises (so the message comes back) when it must be retried."""
    key = job_key(record.body)
    try:
        return svc.deliveries.deliverer.deliver(key)
    except Exception:
        metrics.add_metric(name="ImageDeliveryFailures", unit="Count", value=1)
        logger.exception(
            "image delivery failed", extra={"job": key, "receive_count": record.attributes.approximate_receive_count}
        )
        raise


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext, *, svc: Services | None = None) -> dict[str, Any]:
    """An SQS batch (partial batch response) or the scheduled sweep (counts of what it queued).

    ``svc`` defaults to the process's services (tests pass their own).
    """
    svc = svc or services()
    if event.get("source") == SCHEDULE_SOURCE:
        if svc.deliveries.queue is None:
            raise SettingsError("the delivery sweep needs STILLFRAME_DELIVERY_QUEUE_URL")
        counts = sweep(svc.store, svc.deliveries.queue, now_ms=int(time.time() * 1000))
        deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - PURGE_MARGIN_S
        return {**counts, "deleted_streams_purged": svc.streams.purge_deleted(deadline=deadline)}
    response = process_partial_response(
        event=event, record_handler=lambda record: deliver_record(svc, record), processor=processor, context=context
    )
    return dict(response)
