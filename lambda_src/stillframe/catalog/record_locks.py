"""One lock per stream name, so a read-check-write of a stream record is not interleaved within a process.

The ObjectStore has no compare-and-swap, so two processes writing one record can still race (the last write
wins); in one process (``stillframe serve``, one Lambda invocation) updates and DeleteStream take turns.
"""

from __future__ import annotations

import threading

_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def record_lock(name: str) -> threading.Lock:
    """The lock of stream ``name`` (made on first use; kept, as a lock is a few dozen bytes)."""
    with _guard:
        lock = _locks.get(name)
        if lock is None:
            lock = _locks[name] = threading.Lock()
        return lock
