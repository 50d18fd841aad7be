"""What ``stillframe serve`` holds at once: connections, requests in the handler, requests waiting for it.

Every connection has a thread, but only ``max_concurrent_requests`` requests read their body and run the handler
at a time (on that many pool threads, so the big allocations of a page stay in a few malloc arenas); up to
``max_queued_requests`` more wait their turn, and past that a request is refused with 429
ClientLimitExceededException, as an API Gateway stage refuses what its account limit cannot take. Memory is thereby
bounded by ``max_concurrent_requests`` times the cost of one request (a GetImages page or one body), not by the
number of clients.

Players' GETs of a playback session (``domain.playback.PLAYBACK_PATHS``) have a lane of their own
(``playback_slots``, on the connection's thread): each is one fragment remuxed in milliseconds, and a video must not
stall behind two GetImages pages that may each take the whole time budget.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


def default_concurrency() -> int:
    """One request in the handler per core (at least two): a page already decodes on worker threads of its own."""
    return max(2, os.cpu_count() or 1)


@dataclass(frozen=True)
class ServerLimits:
    """The connection and request limits of ``stillframe serve`` (timeouts in seconds)."""

    max_concurrent_requests: int = default_concurrency()
    max_queued_requests: int = 64
    max_connections: int = 256
    listen_backlog: int = 1024  # the kernel caps it at net.core.somaxconn
    header_timeout_s: float = 10.0  # request line and headers must arrive within this, however slowly they trickle
    idle_timeout_s: float = 60.0  # a keep-alive connection with no request for this long is closed
    body_timeout_s: float = 120.0  # a whole body must arrive within this
    write_timeout_s: float = 60.0  # a client that stops reading its answer for this long is dropped

    @property
    def playback_slots(self) -> int:
        """Playback GETs at once, beside the requests in the handler: each is a few ms of remuxing."""
        return 2 * self.max_concurrent_requests

    def __post_init__(self) -> None:
        counts = (self.max_concurrent_requests, self.max_connections, self.listen_backlog)
        if min(counts) < 1 or self.max_queued_requests < 0:
            raise ValueError(f"limits must be positive (queue: 0 or more): {self}")


class Admission:
    """A counting gate: ``enter`` takes a slot, waiting in a bounded queue; ``leave`` gives it back."""

    def __init__(self, slots: int, queue: int) -> None:
        self.slots = slots
        self.queue = queue
        self._running = 0
        self._waiting = 0
        self._changed = threading.Condition()
        self.last_busy = time.monotonic()

    def enter(self) -> bool:
        """Take a slot (waiting for one if the queue has room) and return True; False when the queue is full."""
        with self._changed:
            if self._running >= self.slots:
                if self._waiting >= self.queue:
                    return False
                self._waiting += 1
                while self._running >= self.slots:
                    self._changed.wait()
                self._waiting -= 1
            self._running += 1
            return True

    def leave(self) -> None:
        """Give a slot back and wake one waiting request."""
        with self._changed:
            self._running -= 1
            self.last_busy = time.monotonic()
            self._changed.notify()

    @property
    def idle(self) -> bool:
        """No request is running or waiting."""
        with self._changed:
            return self._running == 0 and self._waiting == 0


def _load_malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to trim
        return None
    return trim


_MALLOC_TRIM = _load_malloc_trim()


def release_memory() -> None:
    """Hand freed heap back to the system (glibc keeps it otherwise, so RSS stays at the peak of a burst)."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
