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


_BY_SELECTOR = {"SERVER_TIMESTAMP": Timeline.SERVER, "PRODUCER_TIMESTAMP": Timeline.PRODUCER}


def timeline_of(selector: str | None) -> Timeline:
    """The timeline of an ImageSelectorType / FragmentSelectorType; none means server time."""
    return Timeline.SERVER if selector is None else _BY_SELECTOR[selector]
