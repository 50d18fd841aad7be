"""Request models of the playback session operations: GetHLSStreamingSessionURL and GetDASHStreamingSessionURL
(``kinesis-video-archived-media``).

Fields, enums and ranges from the service model; the rules between them from the operations' reference pages:
ON_DEMAND and LIVE_REPLAY need a TimestampRange with a StartTimestamp (ON_DEMAND an EndTimestamp too), LIVE takes
none; EndTimestamp is later than StartTimestamp, by at most 24 hours. Defaults that depend on other fields
(DiscontinuityMode, MaxMediaPlaylistFragmentResults) are properties here, so the operation reads one answer.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from annotated_types import Ge, Le
from pydantic import Field

from stillframe.domain.media_requests import MAX_CLIP_RANGE_MS
from stillframe.domain.requests import SelectorType, StreamRequest
from stillframe.domain.shapes import WHOLE, Timestamp, WireModel, invalid_argument, model_validator

PlaybackMode = Literal["LIVE", "LIVE_REPLAY", "ON_DEMAND"]
ContainerFormat = Literal["FRAGMENTED_MP4", "MPEG_TS"]
DiscontinuityMode = Literal["ALWAYS", "NEVER", "ON_DISCONTINUITY"]
Display = Literal["ALWAYS", "NEVER"]

MIN_EXPIRES_S, MAX_EXPIRES_S, DEFAULT_EXPIRES_S = 300, 43200, 300
MAX_PLAYLIST_FRAGMENTS = 5000
DEFAULT_LIVE_FRAGMENTS = 5  # LIVE and LIVE_REPLAY
DEFAULT_ON_DEMAND_FRAGMENTS = 1000

Expires = Annotated[int, Ge(MIN_EXPIRES_S), Le(MAX_EXPIRES_S), WHOLE]
FragmentResults = Annotated[int, Ge(1), Le(MAX_PLAYLIST_FRAGMENTS), WHOLE]


class PlaybackTimestampRange(WireModel):
    """HLSTimestampRange / DASHTimestampRange: both members optional in the model; the mode says which it needs."""

    start_ms: Timestamp | None = Field(None, alias="StartTimestamp")
    end_ms: Timestamp | None = Field(None, alias="EndTimestamp")


class PlaybackFragmentSelector(WireModel):
    """HLSFragmentSelector / DASHFragmentSelector: the timeline (server time by default) and the range."""

    selector: SelectorType = Field("SERVER_TIMESTAMP", alias="FragmentSelectorType")
    time_range: PlaybackTimestampRange | None = Field(None, alias="TimestampRange")


class PlaybackSessionRequest(StreamRequest):
    """What both session operations share; a subclass names its selector member for the refusals."""

    SELECTOR_FIELD: ClassVar[str]
    PROTOCOL: ClassVar[str]

    mode: PlaybackMode = Field("LIVE", alias="PlaybackMode")
    expires_s: Expires = Field(DEFAULT_EXPIRES_S, alias="Expires")
    display_timestamp: Display = Field("NEVER", alias="DisplayFragmentTimestamp")

    @property
    def fragment_selector(self) -> PlaybackFragmentSelector | None:
        raise NotImplementedError

    @property
    def requested_max(self) -> int | None:
        raise NotImplementedError

    @property
    def selector(self) -> str:
        chosen = self.fragment_selector
        return chosen.selector if chosen is not None else "SERVER_TIMESTAMP"

    @property
    def start_ms(self) -> int | None:
        chosen = self.fragment_selector
        return chosen.time_range.start_ms if chosen is not None and chosen.time_range is not None else None

    @property
    def end_ms(self) -> int | None:
        chosen = self.fragment_selector
        return chosen.time_range.end_ms if chosen is not None and chosen.time_range is not None else None

    @property
    def packaging(self) -> str:
        """The segments' container (DASH: always fragmented MP4)."""
        return "FRAGMENTED_MP4"

    @property
    def discontinuities(self) -> str:
        """Where a playlist marks discontinuities (DASH has no such marks: its timeline keeps the gaps)."""
        return "NEVER"

    @property
    def shows_fragment_numbers(self) -> bool:
        """DisplayFragmentNumber ALWAYS (DASH's ``kvs:fn``)."""
        return False

    @property
    def max_fragments(self) -> int:
        """The most fragments a playlist or manifest lists (the mode's default when not given)."""
        if self.requested_max is not None:
            return self.requested_max
        return DEFAULT_ON_DEMAND_FRAGMENTS if self.mode == "ON_DEMAND" else DEFAULT_LIVE_FRAGMENTS

    @model_validator(mode="after")
    def _range_fits_mode(self) -> PlaybackSessionRequest:
        field = self.SELECTOR_FIELD
        chosen = self.fragment_selector
        time_range = chosen.time_range if chosen is not None else None
        if self.mode == "LIVE":
            if time_range is not None:
                raise invalid_argument(f"{field}.TimestampRange must not be set when PlaybackMode is LIVE")
            return self
        if time_range is None or time_range.start_ms is None:
            raise invalid_argument(
                f"{field}.TimestampRange.StartTimestamp is required when PlaybackMode is {self.mode}"
            )
        if time_range.end_ms is None:
            if self.mode == "ON_DEMAND":
                raise invalid_argument(
                    f"{field}.TimestampRange.EndTimestamp is required when PlaybackMode is ON_DEMAND"
                )
            return self
        if time_range.end_ms <= time_range.start_ms:
            raise invalid_argument(f"{field}.TimestampRange.EndTimestamp must be later than StartTimestamp")
        if time_range.end_ms - time_range.start_ms > MAX_CLIP_RANGE_MS:
            raise invalid_argument(f"{field}.TimestampRange.EndTimestamp must be within 24 hours of StartTimestamp")
        return self


class GetHLSStreamingSessionURLRequest(PlaybackSessionRequest):
    """A valid GetHLSStreamingSessionURL request."""

    SELECTOR_FIELD: ClassVar[str] = "HLSFragmentSelector"
    PROTOCOL: ClassVar[str] = "HLS"

    hls_selector: PlaybackFragmentSelector | None = Field(None, alias="HLSFragmentSelector")
    container: ContainerFormat = Field("FRAGMENTED_MP4", alias="ContainerFormat")
    discontinuity_mode: DiscontinuityMode | None = Field(None, alias="DiscontinuityMode")
    max_results: FragmentResults | None = Field(None, alias="MaxMediaPlaylistFragmentResults")

    @property
    def fragment_selector(self) -> PlaybackFragmentSelector | None:
        return self.hls_selector

    @property
    def requested_max(self) -> int | None:
        return self.max_results

    @property
    def packaging(self) -> str:
        return self.container

    @property
    def discontinuities(self) -> str:
        """DiscontinuityMode, defaulting by timeline: ALWAYS on server time, NEVER on producer time."""
        if self.discontinuity_mode is not None:
            return self.discontinuity_mode
        return "ALWAYS" if self.selector == "SERVER_TIMESTAMP" else "NEVER"


class GetDASHStreamingSessionURLRequest(PlaybackSessionRequest):
    """A valid GetDASHStreamingSessionURL request."""

    SELECTOR_FIELD: ClassVar[str] = "DASHFragmentSelector"
    PROTOCOL: ClassVar[str] = "DASH"

    dash_selector: PlaybackFragmentSelector | None = Field(None, alias="DASHFragmentSelector")
    display_number: Display = Field("NEVER", alias="DisplayFragmentNumber")
    max_results: FragmentResults | None = Field(None, alias="MaxManifestFragmentResults")

    @property
    def fragment_selector(self) -> PlaybackFragmentSelector | None:
        return self.dash_selector

    @property
    def requested_max(self) -> int | None:
        return self.max_results

    @property
    def shows_fragment_numbers(self) -> bool:
        return self.display_number == "ALWAYS"
