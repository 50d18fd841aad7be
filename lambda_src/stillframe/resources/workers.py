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
from dataclasses import dataclass, field
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
        self._queue: queue.PriorityQueue[_Entry] = queue.PriorityQueue()
        self._order = itertools.count()  # ties keep submission order
        for n in range(count):
            threading.Thread(target=self._work, name=f"decode-{n}", daemon=True).start()

    def submit(self, priority: tuple[int, ...], task: Callable[[], T], owner: object = None) -> Future[T]:
        """Queue ``task`` at ``priority`` (e.g. kind, page, sample position); lower runs first.

        ``owner`` (e.g. the request) lets a sliced task ask whether anyone else's work waits (``waiting_besides``).
        """
        future: Future[T] = Future()
        self._queue.put(_Entry(priority, next(self._order), future, task, owner))
        return future

    def submit_sliced(
        self, priority: tuple[int, ...], task: Callable[[], T | Continue], owner: object = None
    ) -> Future[T]:
        """Queue ``task``, which may return ``Continue`` to be queued again; the future gets its final result."""
        return cast("Future[T]", self.submit(priority, task, owner))

    def waiting_besides(self, owner: object) -> bool:
        """Whether tasks of another owner wait for a worker (a sliced task then gives its worker up)."""
        with self._queue.mutex:
            return any(entry.owner is not owner for entry in self._queue.queue)

    def _work(self) -> None:
        while True:
            entry = self._queue.get()
            if not entry.resumed and not entry.future.set_running_or_notify_cancel():
                continue
            try:
                result = entry.task()
            except BaseException as exc:  # delivered to whoever waits on the future
                entry.future.set_exception(exc)
                continue
            if isinstance(result, Continue):
                self._queue.put(
                    _Entry(result.priority, next(self._order), entry.future, result.task, entry.owner, True)
                )
            else:
                entry.future.set_result(result)


@dataclass(order=True, frozen=True)
class _Entry:
    """A queued task, ordered by priority then submission."""

    priority: tuple[int, ...]
    order: int
    future: Future[Any] = field(compare=False)
    task: Callable[[], Any] = field(compare=False)
    owner: object = field(default=None, compare=False)
    resumed: bool = field(default=False, compare=False)  # a Continue: its future is running already


def usable_cpus() -> int:
    """CPUs this process may run on."""
    affinity = getattr(os, "sched_getaffinity", None)
    return max(1, len(affinity(0)) if affinity else os.cpu_count() or 1)
