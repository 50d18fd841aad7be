"""CPU worker threads that run the most urgent task first (renders before decodes, earlier samples first).

A long task may run in slices: it returns ``Continue`` with the rest of its work and its new place in line, and is
queued again under the same future, so tasks of other requests run in between.
"""

from __future__ import annotations

import itertools
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar, cast

T = TypeVar("T")


@dataclass(frozen=True)
class Continue:
    """What a task returns to be run again later under the same future: the rest of its work, and where in line."""

    priority: tuple[int, ...]
    task: Callable[[], Any]


class Workers:
    """CPU threads that take the most urgent task first: renders before decodes, then earlier samples first.

    A plain FIFO pool would run every queued GOP decode before the renders its decodes produce: decoded
    pictures would pile up in memory and a page with one or two GOPs could not render on one core while
    decoding on another. One thread per usable core (under ``taskset`` or a cgroup CPU set, more threads
    would only time-slice the same cores).
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self._queue: queue.PriorityQueue[tuple[tuple[int, ...], int, Future[Any], Callable[[], Any], bool]] = (
            queue.PriorityQueue()
        )
        self._order = itertools.count()  # ties keep submission order
        for n in range(count):
            threading.Thread(target=self._work, name=f"decode-{n}", daemon=True).start()

    def submit(self, priority: tuple[int, ...], task: Callable[[], T]) -> Future[T]:
        """Queue ``task`` at ``priority`` (e.g. kind, page, sample position); lower runs first."""
        future: Future[T] = Future()
        self._queue.put((priority, next(self._order), future, task, False))
        return future

    def submit_sliced(self, priority: tuple[int, ...], task: Callable[[], T | Continue]) -> Future[T]:
        """Queue ``task``, which may return ``Continue`` to be queued again; the future gets its final result."""
        return cast("Future[T]", self.submit(priority, task))

    def waiting(self) -> bool:
        """Whether tasks wait for a worker (a sliced task then gives its worker up)."""
        return not self._queue.empty()

    def _work(self) -> None:
        while True:
            _, _, future, task, resumed = self._queue.get()
            if not resumed and not future.set_running_or_notify_cancel():
                continue
            try:
                result = task()
            except BaseException as exc:  # delivered to whoever waits on the future
                future.set_exception(exc)
                continue
            if isinstance(result, Continue):
                self._queue.put((result.priority, next(self._order), future, result.task, True))
            else:
                future.set_result(result)


def usable_cpus() -> int:
    """CPUs this process may run on."""
    affinity = getattr(os, "sched_getaffinity", None)
    return max(1, len(affinity(0)) if affinity else os.cpu_count() or 1)
