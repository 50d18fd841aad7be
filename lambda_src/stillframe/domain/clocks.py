"""The two timelines a fragment is found by, as selectors name them and the fragment index keys them.

Not to be confused with ``domain.timeline``, GetImages' sample times.
"""

from __future__ import annotations

from enum import StrEnum


class Timeline(StrEnum):
    """Which clock a fragment is found by: the server's receive time or the producer's timestamps.

    The values are the index's directory names (``markers/server/``, ``markers/producer/``).
    """

    SERVER = "server"
    PRODUCER = "producer"

    @property
    def other(self) -> Timeline:
        return Timeline.PRODUCER if self is Timeline.SERVER else Timeline.SERVER


class TimecodeType(StrEnum):
    """PutMedia's ``x-amzn-fragment-timecode-type``: how a fragment's media times become producer times."""

    RELATIVE = "RELATIVE"  # media times count from the producer start time
    ABSOLUTE = "ABSOLUTE"  # media times are producer times (epoch ms)

    def producer_ms(self, *, producer_start_ms: int, pts_ms: int, offset_ms: int) -> int:
        """A fragment's producer time: its own time (ABSOLUTE) or the start plus its offset in the upload."""
        return pts_ms if self is TimecodeType.ABSOLUTE else producer_start_ms + offset_ms

    def ack_timecode(self, *, pts_ms: int, offset_ms: int) -> int:
        """The FragmentTimecode an ack names the fragment by: its media time, as the producer sent it."""
        return pts_ms if self is TimecodeType.ABSOLUTE else offset_ms


_BY_SELECTOR = {"SERVER_TIMESTAMP": Timeline.SERVER, "PRODUCER_TIMESTAMP": Timeline.PRODUCER}


def timeline_of(selector: str | None) -> Timeline:
    """The timeline of an ImageSelectorType / FragmentSelectorType; none means server time."""
    return Timeline.SERVER if selector is None else _BY_SELECTOR[selector]
