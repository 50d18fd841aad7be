"""The delivery worker: a failed job is retried with backoff until it succeeds; a done job is not run again."""

from __future__ import annotations

import threading
from typing import Any

from stillframe.delivery.worker import DeliveryWorker


class FlakyDeliverer:
    """Fails ``failures`` times, then succeeds; records each attempt."""

    def __init__(self, failures: int, retry_base_s: float = 0.01) -> None:
        self.failures, self.retry_base_s = failures, retry_base_s
        self.attempts: list[str] = []
        self.done = threading.Event()

    def deliver(self, key: str) -> int:
        self.attempts.append(key)
        if len(self.attempts) <= self.failures:
            raise OSError("destination unavailable")
        self.done.set()
        return 3


def test_failures_are_counted_and_retried_until_delivered():
    # Given a destination that fails twice
    worker, deliverer = DeliveryWorker(), FlakyDeliverer(failures=2)
    # When one job is submitted
    worker.submit("generate/cam/1/100", deliverer)  # type: ignore[arg-type]
    # Then it is tried three times and delivered once
    assert deliverer.done.wait(5)
    assert worker.wait_idle(5)
    assert deliverer.attempts == ["generate/cam/1/100"] * 3
    assert worker.failures == 2 and worker.delivered == 3


def test_a_key_waiting_in_line_is_not_queued_twice():
    worker, deliverer = DeliveryWorker(), FlakyDeliverer(failures=0)
    blocker = threading.Event()
    slow: Any = type("Slow", (), {"retry_base_s": 0.01, "deliver": lambda self, key: blocker.wait(5) and 0})()
    worker.submit("generate/cam/1/0", slow)
    for _ in range(3):
        worker.submit("generate/cam/1/200", deliverer)  # type: ignore[arg-type]
    blocker.set()
    assert worker.wait_idle(5)
    assert deliverer.attempts == ["generate/cam/1/200"]
