"""Request models of the archived-media operations that answer media: GetClip and GetMediaForFragmentList.

Fields, lengths, patterns and list sizes from the ``kinesis-video-archived-media`` service model; the range rules
from the ClipTimestampRange reference (EndTimestamp later than StartTimestamp, at most 24 hours after it).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from stillframe.domain.requests import SelectorType, StreamRequest
from stillframe.domain.shapes import Timestamp, WireModel, invalid_argument, model_pattern, model_validator

MAX_CLIP_RANGE_MS = 24 * 3600 * 1000  # ClipTimestampRange: EndTimestamp within 24 hours of StartTimestamp
MAX_FRAGMENT_LIST = 1000  # FragmentNumberList's max

FragmentNumber = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=model_pattern(r"[0-9]+"))]


class ClipTimestampRange(WireModel):
    """GetClip's TimestampRange: End later than Start, by at most 24 hours (both inclusive of fragment starts)."""

    start_ms: Timestamp = Field(alias="StartTimestamp")
    end_ms: Timestamp = Field(alias="EndTimestamp")

    @model_validator(mode="after")
    def _ordered(self) -> ClipTimestampRange:
        if self.end_ms <= self.start_ms:
            raise invalid_argument(
                "ClipFragmentSelector.TimestampRange.EndTimestamp must be later than "
                "ClipFragmentSelector.TimestampRange.StartTimestamp"
            )
        if self.end_ms - self.start_ms > MAX_CLIP_RANGE_MS:
            raise invalid_argument(
                "ClipFragmentSelector.TimestampRange.EndTimestamp must be within 24 hours of StartTimestamp"
            )
        return self


class ClipFragmentSelector(WireModel):
    """GetClip's ClipFragmentSelector: a timeline and a range in it."""

    selector: SelectorType = Field(alias="FragmentSelectorType")
    time_range: ClipTimestampRange = Field(alias="TimestampRange")


class GetClipRequest(StreamRequest):
    """A valid GetClip request."""

    clip_selector: ClipFragmentSelector = Field(alias="ClipFragmentSelector")

    @property
    def selector(self) -> str:
        return self.clip_selector.selector

    @property
    def start_ms(self) -> int:
        return self.clip_selector.time_range.start_ms

    @property
    def end_ms(self) -> int:
        return self.clip_selector.time_range.end_ms


class GetMediaForFragmentListRequest(StreamRequest):
    """A valid GetMediaForFragmentList request: 1 to 1000 fragment numbers, answered in the order given."""

    fragments: Annotated[list[FragmentNumber], Field(min_length=1, max_length=MAX_FRAGMENT_LIST)] = Field(
        alias="Fragments"
    )
