"""Request models of the operations that answer media: GetClip and GetMediaForFragmentList
(``kinesis-video-archived-media``) and GetMedia (``kinesis-video-media``).

Fields, lengths, patterns and list sizes from the service models; the range rules from the ClipTimestampRange
reference (EndTimestamp later than StartTimestamp, at most 24 hours after it); which StartSelector member each
StartSelectorType needs from the StartSelector reference.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from stillframe.domain.requests import SelectorType, StreamRequest, canonical
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


StartSelectorType = Literal[
    "FRAGMENT_NUMBER", "SERVER_TIMESTAMP", "PRODUCER_TIMESTAMP", "NOW", "EARLIEST", "CONTINUATION_TOKEN"
]
ContinuationToken = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=model_pattern(r"[a-zA-Z0-9_.\-]+"))
]
# The member each selector type needs (the others are ignored, as KVS does).
_NEEDS = {
    "FRAGMENT_NUMBER": ("after_fragment", "AfterFragmentNumber"),
    "SERVER_TIMESTAMP": ("start_ms", "StartTimestamp"),
    "PRODUCER_TIMESTAMP": ("start_ms", "StartTimestamp"),
    "CONTINUATION_TOKEN": ("continuation_token", "ContinuationToken"),
}


class StartSelector(WireModel):
    """Where GetMedia starts; the member its type needs must be there."""

    selector: StartSelectorType = Field(alias="StartSelectorType")
    after_fragment: FragmentNumber | None = Field(None, alias="AfterFragmentNumber")
    start_ms: Timestamp | None = Field(None, alias="StartTimestamp")
    continuation_token: ContinuationToken | None = Field(None, alias="ContinuationToken")

    @model_validator(mode="after")
    def _has_its_member(self) -> StartSelector:
        needed = _NEEDS.get(self.selector)
        if needed is not None and getattr(self, needed[0]) is None:
            raise invalid_argument(f"StartSelector.{needed[1]} is required when StartSelectorType is {self.selector}")
        return self


class GetMediaRequest(StreamRequest):
    """A valid GetMedia request."""

    start: StartSelector = Field(alias="StartSelector")

    def binding(self) -> bytes:
        """What a continuation token is bound to besides the stream's ARN: the operation and the stream."""
        return canonical("GetMedia", {"Stream": self.stream.stream_name})
