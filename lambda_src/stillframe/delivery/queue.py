"""Telling a delivery consumer about job markers: one SQS message per marker, and the sweep of forgotten ones.

The message only names the marker (``{"job": "generate/<media id>/<fragment number>"}``); the marker in the store
stays the source of truth. A message that was never sent (SQS unavailable at ingest) or that was dropped is made
good by ``sweep``, which the deployed delivery function runs on a schedule: it sends a message again for every
marker older than ``SWEEP_MIN_AGE_MS``. Delivering a job twice is harmless (its image keys are deterministic, and
a job whose marker is gone is a no-op), so the sweep needs no bookkeeping of what is in flight.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, Protocol

from stillframe.delivery.jobs import PREFIX, pending_jobs
from stillframe.storage.port import ObjectStore

logger = logging.getLogger(__name__)

# Older than the longest a healthy message stays in flight (the stack's receive count x visibility timeout),
# so the hourly sweep rarely duplicates a message that is still being retried.
SWEEP_MIN_AGE_MS = 60 * 60 * 1000
# A fragment number starts with its 13-digit receive time in epoch ms (ingest.service.fragment_number).
_RECEIVED_MS_DIGITS = 13


class JobNotifier(Protocol):
    """Tells a consumer that the job marker ``key`` is waiting; raises when it could not."""

    def notify(self, key: str) -> None: ...


def message_body(key: str) -> str:
    """The message that names one job marker."""
    return json.dumps({"job": key})


def job_key(body: str) -> str:
    """The marker key a message names; ValueError for anything else (it will never deliver)."""
    try:
        key = json.loads(body)["job"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"not a delivery job message: {body[:200]!r}") from exc
    # generate/<media id>/<fragment number>, where a media id is "<stream name>/<creation ms>"
    if not isinstance(key, str) or not key.startswith(PREFIX) or key.count("/") < 2 or key.endswith("/"):
        raise ValueError(f"not a delivery job key: {key!r}")
    return key


class SqsJobQueue:
    """SendMessage to the delivery queue; the client is created on first use (standard boto3 resolution)."""

    def __init__(self, queue_url: str, *, region: str, client: Any = None) -> None:
        self.queue_url, self.region = queue_url, region
        self._client = client

    def notify(self, key: str) -> None:
        if self._client is None:
            import boto3
            from botocore.config import Config

            # A session of its own: boto3's default session is not thread-safe (serve answers on threads).
            config = Config(retries={"mode": "standard"})
            self._client = boto3.session.Session().client("sqs", region_name=self.region, config=config)
        self._client.send_message(QueueUrl=self.queue_url, MessageBody=message_body(key))


def notify_or_leave_to_sweep(notifier: JobNotifier, key: str) -> bool:
    """Send the job's message; when that fails, log it and go on (the marker is written: the sweep sends it)."""
    try:
        notifier.notify(key)
    except Exception as exc:  # ingest must not fail for the queue: the fragment and its marker are stored
        logger.warning(
            "delivery job not queued; the sweep will queue it",
            extra={"job": key, "error": f"{type(exc).__name__}: {exc}"},
        )
        return False
    return True


def received_ms(key: str) -> int:
    """When the marker's fragment was received (from its number); 0 when the number does not say."""
    digits = key.rsplit("/", 1)[-1][:_RECEIVED_MS_DIGITS]
    return int(digits) if len(digits) == _RECEIVED_MS_DIGITS and digits.isdigit() else 0


def sweep(
    store: ObjectStore, notifier: JobNotifier, *, now_ms: int, min_age_ms: int = SWEEP_MIN_AGE_MS
) -> dict[str, int]:
    """Queue again every marker older than ``min_age_ms``; counts of markers seen, queued and not queued."""
    seen = queued = failed = 0
    for key in pending_jobs(store):
        seen += 1
        if now_ms - received_ms(key) < min_age_ms:
            continue  # its first message is probably still on its way
        if notify_or_leave_to_sweep(notifier, key):
            queued += 1
        else:
            failed += 1
    counts = {"pending": seen, "queued": queued, "not_queued": failed}
    logger.info("delivery sweep done", extra=counts)
    return counts


def job_queue(queue_url: str, region: str, factory: Callable[..., JobNotifier] = SqsJobQueue) -> JobNotifier | None:
    """The notifier for a configured queue URL, or None when there is none."""
    return factory(queue_url, region=region) if queue_url else None
