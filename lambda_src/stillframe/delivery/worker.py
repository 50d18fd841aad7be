"""Deliver job markers in the background: one thread per process, retries with backoff, resumed at start.

Ingest only writes the marker and submits its key, so acks never wait for rendering. A failed delivery is logged
with the process's running count of failures (serve's counter; a metric too when running in Lambda) and tried
again after ``retry_base_s``, doubling up to ``RETRY_CAP_S``, for as long as the process runs; the marker stays
in the store meanwhile, so a restart picks it up again.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from stillframe.catalog.fragments import FragmentIndex
from stillframe.catalog.keys import FragmentRecord
from stillframe.catalog.stream_record import StreamRecord
from stillframe.delivery.generate import generate_images
from stillframe.delivery.jobs import DeliveryJob, pending_jobs, write_job
from stillframe.delivery.layout import CONTENT_TYPES, Destination, image_name
from stillframe.delivery.queue import JobNotifier, job_queue, notify_or_leave_to_sweep
from stillframe.delivery.sinks import ImageSink, sink_for
from stillframe.errors import ObjectNotFound
from stillframe.observability import metrics
from stillframe.settings import Settings
from stillframe.storage.port import ObjectStore

# A child of the package logger: JSON through Powertools in Lambda, serve's key=value lines on stderr.
logger = logging.getLogger(__name__)
RETRY_CAP_S = 300.0


class Deliverer:
    """Delivers one job: read its marker, render, write every image, delete the marker."""

    def __init__(self, store: ObjectStore, index: FragmentIndex, sink: ImageSink, *, retry_base_s: float = 1.0) -> None:
        self.store, self.index, self.sink = store, index, sink
        self.retry_base_s = retry_base_s  # first delay after a failure, doubled each time

    def deliver(self, key: str) -> int:
        """Images written for the job at ``key`` (0 when it is gone or has none); raises when it must be retried."""
        try:
            raw = self.store.get(key)
        except ObjectNotFound:
            return 0  # delivered already (a duplicate submission)
        try:
            job = DeliveryJob.from_json(raw)
        except (ValueError, KeyError, TypeError) as exc:
            logger.error("dropped a malformed delivery job", extra={"job": key, "error": str(exc)})
            self.store.delete(key)
            return 0
        try:
            images, failed = generate_images(job, self.index)
        except ObjectNotFound:
            logger.warning("fragment gone before its images were delivered", extra={"job": key})
            self.store.delete(key)
            return 0
        destination = Destination.parse(job.configuration.destination.uri)
        region = job.configuration.destination.region
        image_format = job.configuration.image_format
        producer_first = job.configuration.selector == "PRODUCER_TIMESTAMP"
        for image in images:
            name = image_name(job.account_id, job.stream_name, image.timecode_ms, job.fragment.number, image_format)
            producer, server = (
                (image.timecode_ms, image.other_ms) if producer_first else (image.other_ms, image.timecode_ms)
            )
            self.sink.put(
                destination.bucket,
                destination.key(name),
                image.data,
                region=region,
                content_type=CONTENT_TYPES[image_format],
                metadata={
                    "aws_kinesisvideo_producer_timestamp": str(producer),
                    "aws_kinesisvideo_server_timestamp": str(server),
                    "aws_kinesisvideo_fragment_number": job.fragment.number,
                },
            )
        self.store.delete(key)
        logger.info(
            "images delivered",
            extra={"job": key, "images": len(images), "media_errors": failed, "bucket": destination.bucket},
        )
        return len(images)


@dataclass(order=True)
class _Due:
    due: float
    order: int
    key: str = field(compare=False)
    attempt: int = field(compare=False)
    deliverer: Deliverer = field(compare=False)


class DeliveryWorker:
    """One thread taking due jobs in time order; failed ones come back after their backoff."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._heap: list[_Due] = []
        self._queued: set[tuple[int, str]] = set()
        self._busy = 0
        self._order = itertools.count()
        self._cond = threading.Condition()
        self.failures = 0
        self.delivered = 0
        self._thread = threading.Thread(target=self._run, name="stillframe-delivery", daemon=True)
        self._thread.start()

    def submit(self, key: str, deliverer: Deliverer, *, delay_s: float = 0.0, attempt: int = 0) -> None:
        """Deliver ``key`` after ``delay_s``; a key already waiting is not queued twice."""
        with self._cond:
            ident = (id(deliverer), key)
            if ident in self._queued:
                return
            self._queued.add(ident)
            heapq.heappush(self._heap, _Due(self._clock() + delay_s, next(self._order), key, attempt, deliverer))
            self._cond.notify()

    def wait_idle(self, timeout_s: float) -> bool:
        """Whether every job due within ``timeout_s`` was done by then (tests, shutdown)."""
        deadline = self._clock() + timeout_s
        with self._cond:
            while self._busy or (self._heap and self._heap[0].due <= deadline):
                left = deadline - self._clock()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
            return True

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap or self._heap[0].due > self._clock():
                    self._cond.wait(None if not self._heap else max(0.0, self._heap[0].due - self._clock()))
                item = heapq.heappop(self._heap)
                self._queued.discard((id(item.deliverer), item.key))
                self._busy += 1
            try:
                self._attempt(item)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _attempt(self, item: _Due) -> None:
        try:
            self.delivered += item.deliverer.deliver(item.key)
        except Exception as exc:  # any failure is retried: the fragment is stored, only its images are late
            self.failures += 1
            attempt = item.attempt + 1
            delay = min(RETRY_CAP_S, item.deliverer.retry_base_s * 2 ** (attempt - 1))
            logger.warning(
                "image delivery failed; will retry",
                extra={
                    "job": item.key,
                    "attempt": attempt,
                    "retry_in_s": round(delay, 3),
                    "delivery_failures": self.failures,
                    "error": f"{type(exc).__name__}: {exc}",
                },
            )
            if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
                metrics.add_metric(name="ImageDeliveryFailures", unit="Count", value=1)
            self.submit(item.key, item.deliverer, delay_s=delay, attempt=attempt)


@functools.cache
def shared_worker() -> DeliveryWorker:
    """The process's delivery thread, started on first use: by ``Deliveries.start`` as the process starts, before
    any request could race it. It lives here, not in ``stillframe.resources``, because it runs delivery jobs."""
    return DeliveryWorker()


class Deliveries:
    """What ingest and the wiring see: enqueue a tagged fragment's job; start (and resume) the worker."""

    def __init__(self, store: ObjectStore, index: FragmentIndex, settings: Settings) -> None:
        self.store = store
        self.in_process = settings.delivery == "thread"
        self.deliverer = Deliverer(store, index, sink_for(settings), retry_base_s=settings.delivery_retry_ms / 1000)
        # STILLFRAME_DELIVERY_QUEUE_URL (the deployed stack's queue) hears of each marker once it is written.
        self.queue: JobNotifier | None = job_queue(settings.delivery_queue_url, settings.region)

    def enqueue(self, stream: StreamRecord, record: FragmentRecord) -> DeliveryJob | None:
        """Persist a job for a stored, tagged fragment when the stream's configuration is ENABLED (before the ack)."""
        config = stream.enabled_image_generation
        if config is None:
            return None
        job = write_job(self.store, stream, record, config)
        if self.queue is not None:
            notify_or_leave_to_sweep(self.queue, job.key)
        if self.in_process:
            shared_worker().submit(job.key, self.deliverer)
        return job

    def start(self) -> None:
        """Start the in-process worker and hand it every marker left by an earlier process."""
        if not self.in_process:
            return
        worker = shared_worker()
        threading.Thread(target=self._resume, args=(worker,), name="stillframe-delivery-resume", daemon=True).start()

    def _resume(self, worker: DeliveryWorker) -> None:
        try:
            keys = list(pending_jobs(self.store))
        except Exception as exc:  # the next start tries again; serving goes on
            logger.warning("could not list pending image deliveries", extra={"error": str(exc)})
            return
        for key in keys:
            worker.submit(key, self.deliverer)
        if keys:
            logger.warning("resuming image deliveries left by an earlier process", extra={"jobs": len(keys)})
