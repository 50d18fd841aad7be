"""One lock per stream name, so a read-check-write of a stream record is not interleaved within a process.

Across processes the record is written back with the store's conditional ``replace`` (S3 If-Match), which fails
when another process wrote it since it was read; the writer then reads it again. The lock only saves threads of one
process (``stillframe serve``) that retry.
"""

from __future__ import annotations

import threading
from functools import cache

_guard = threading.Lock()  # a cache filled by two racing threads could hand them two different locks for one name


def record_lock(name: str) -> threading.Lock:
    """The lock of stream ``name`` (made on first use; kept, as a lock is a few dozen bytes)."""
    with _guard:
        return _lock_of(name)


@cache
def _lock_of(name: str) -> threading.Lock:
    return threading.Lock()
