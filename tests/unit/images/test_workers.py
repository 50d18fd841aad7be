"""The CPU workers run the most urgent queued task first, and deliver results and errors through futures."""

from __future__ import annotations

import threading

import pytest

from stillframe.images.workers import Workers, usable_cpus


def test_queued_tasks_run_in_priority_order_then_submission_order():
    # Given one worker kept busy while tasks queue up
    workers = Workers(1)
    gate = threading.Event()
    workers.submit((0,), gate.wait)
    ran: list[str] = []
    futures = [
        workers.submit(priority, lambda name=name: ran.append(name))
        for priority, name in [
            ((1, 5), "decode late"),
            ((0, 9), "render"),
            ((1, 2), "decode early"),
            ((0, 9), "render 2"),
        ]
    ]
    # When the worker is freed
    gate.set()
    for future in futures:
        future.result(timeout=5)
    # Then renders (0) ran before decodes (1), earlier samples first, ties in submission order
    assert ran == ["render", "render 2", "decode early", "decode late"]


def test_errors_and_cancellation_travel_through_the_future():
    workers = Workers(1)
    gate = threading.Event()
    workers.submit((0,), gate.wait)
    failing = workers.submit((1,), lambda: 1 / 0)
    cancelled = workers.submit((1,), lambda: pytest.fail("a cancelled task must not run"))
    assert cancelled.cancel()
    gate.set()
    with pytest.raises(ZeroDivisionError):
        failing.result(timeout=5)
    assert workers.submit((2,), lambda: "still working").result(timeout=5) == "still working"


def test_usable_cpus_is_at_least_one():
    assert usable_cpus() >= 1
