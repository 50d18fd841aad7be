"""Which fragment is on screen at a sample time (pure logic, no I/O; the frame within it: media.fragment).

A fragment covers [start, start + duration) in a timeline, where duration runs to the end of
its last frame. Where fragments overlap, the one that started last wins (ties: the later
fragment number, i.e. the later ingestion).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar


class Span(Protocol):
    @property
    def number(self) -> str: ...

    @property
    def duration_ms(self) -> int: ...

    def start(self, timeline: str) -> int: ...


S = TypeVar("S", bound=Span)


def covering(spans: Sequence[S], timeline: str, t_ms: int) -> S | None:
    """The fragment on screen at ``t_ms``, or None when no fragment covers it (NO_MEDIA)."""
    best: S | None = None
    for span in spans:
        start = span.start(timeline)
        if start <= t_ms < start + span.duration_ms and (
            best is None
            or (start, len(span.number), span.number) > (best.start(timeline), len(best.number), best.number)
        ):
            best = span
    return best
