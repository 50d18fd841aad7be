"""The CPU workers run the most urgent queued task first, and deliver results and errors through futures."""

from __future__ import annotations

import threading

import pytest

from stillframe.resources.workers import Continue, Workers, usable_cpus


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


def test_a_sliced_task_lets_tasks_queued_meanwhile_run_between_its_slices():
    # Given one worker, a long task in three slices, and a short task queued while its first slice runs
    workers = Workers(1)
    gate, ran = threading.Event(), []

    def long_task(part: int = 1) -> str | Continue:
        if part == 1:
            gate.wait()
        ran.append(f"long {part}")
        return "long done" if part == 3 else Continue((5, part), lambda: long_task(part + 1))

    long = workers.submit_sliced((5, 0), long_task)
    short = workers.submit((5, 1), lambda: ran.append("short"))
    gate.set()

    # Then the short task runs after the first slice, not after the whole long task, which still ends with its result
    assert long.result(timeout=5) == "long done" and short.result(timeout=5) is None
    assert ran == ["long 1", "short", "long 2", "long 3"]


def test_a_task_asks_only_whether_someone_elses_work_waits():
    # Given one worker kept busy by page A, and more of page A's work queued
    workers, gate = Workers(1), threading.Event()
    page_a, page_b = object(), object()
    workers.submit((0,), gate.wait, owner=page_a)
    workers.submit((1,), lambda: None, owner=page_a)
    # Then only another page's queued work counts as waiting
    assert not workers.waiting_besides(page_a)
    workers.submit((1,), lambda: None, owner=page_b)
    assert workers.waiting_besides(page_a) and workers.waiting_besides(page_b)
    gate.set()
