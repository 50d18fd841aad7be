"""CPU worker threads that run the most urgent task first (renders before decodes, earlier samples first)."""

from __future__ import annotations

import itertools
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


class Workers:
    """CPU threads that take the most urgent task first: renders before decodes, then earlier samples first.

    A plain FIFO pool would run every queued GOP decode before the renders its decodes produce: decoded
    pictures would pile up in memory and a page with one or two GOPs could not render on one core while
    decoding on another. One thread per usable core (under ``taskset`` or a cgroup CPU set, more threads
    would only time-slice the same cores).
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self._queue: queue.PriorityQueue[tuple[tuple[int, ...], int, Future[Any], Callable[[], Any]]] = (
            queue.PriorityQueue()
        )
        self._order = itertools.count()  # ties keep submission order
        for n in range(count):
            threading.Thread(target=self._work, name=f"decode-{n}", daemon=True).start()

    def submit(self, priority: tuple[int, ...], task: Callable[[], T]) -> Future[T]:
        """Queue ``task`` at ``priority`` (e.g. kind, page, sample position); lower runs first."""
        future: Future[T] = Future()
        self._queue.put((priority, next(self._order), future, task))
        return future

    def _work(self) -> None:
        while True:
            _, _, future, task = self._queue.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(task())
            except BaseException as exc:  # delivered to whoever waits on the future
                future.set_exception(exc)


def usable_cpus() -> int:
    """CPUs this process may run on."""
    affinity = getattr(os, "sched_getaffinity", None)
    return max(1, len(affinity(0)) if affinity else os.cpu_count() or 1)
