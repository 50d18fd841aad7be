"""The two timelines a selector names, as the fragment index calls them."""

from __future__ import annotations

from enum import StrEnum


class Timeline(StrEnum):
    """Which clock a fragment is found by: the server's receive time or the producer's timestamps."""

    SERVER = "server"
    PRODUCER = "producer"


_BY_SELECTOR = {"SERVER_TIMESTAMP": Timeline.SERVER, "PRODUCER_TIMESTAMP": Timeline.PRODUCER}


def timeline_of(selector: str | None) -> Timeline:
    """The timeline of an ImageSelectorType / FragmentSelectorType; none means server time."""
    return Timeline.SERVER if selector is None else _BY_SELECTOR[selector]
