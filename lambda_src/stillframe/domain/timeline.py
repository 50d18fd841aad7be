"""The GetImages sample timeline and its pages.

Samples are ``t_k = start + k * interval`` for k = 0, 1, ... while ``t_k <= end``, so there is
always at least one (the start). A page is a run of consecutive samples identified by the offset
``k`` of its first one; the offset is what a NextToken carries.
"""

from __future__ import annotations


def sample_count(start_ms: int, end_ms: int, interval_ms: int) -> int:
    """Number of samples in ``[start_ms, end_ms]`` at ``interval_ms`` (at least 1)."""
    _check_range(start_ms, end_ms, interval_ms)
    return (end_ms - start_ms) // interval_ms + 1


def page_samples(start_ms: int, end_ms: int, interval_ms: int, offset: int, limit: int) -> list[int]:
    """Sample times ``t_offset .. t_(offset+limit-1)`` that exist; empty when ``offset`` is past the end.

    An empty page means the offset did not come from this timeline (the caller treats it as a bad token).
    """
    if offset < 0 or limit < 1:
        raise ValueError(f"offset must be >= 0 and limit >= 1, not {offset} and {limit}")
    stop = min(offset + limit, sample_count(start_ms, end_ms, interval_ms))
    return [start_ms + k * interval_ms for k in range(offset, stop)]


def has_more(start_ms: int, end_ms: int, interval_ms: int, next_offset: int) -> bool:
    """True when samples remain from ``next_offset`` on (the offset after the last sample served)."""
    return 0 <= next_offset < sample_count(start_ms, end_ms, interval_ms)


def _check_range(start_ms: int, end_ms: int, interval_ms: int) -> None:
    # The request parser guarantees these; a violation is a programming error, not a client one.
    if interval_ms < 1 or end_ms < start_ms:
        raise ValueError(f"need interval_ms >= 1 and end_ms >= start_ms, not {interval_ms}, {start_ms}..{end_ms}")
