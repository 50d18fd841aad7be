"""Archived-media request models (GetImages, ListFragments) and the stream reference every operation shares.

One pydantic model per operation, validated by the API resolver (Powertools ``enable_validation``) and the source
of its OpenAPI schema; the control-plane models are in ``stream_requests``, the field shapes in ``shapes``.
Field types, lengths, patterns, ranges and enums come from the AWS SDK service models (``kinesisvideo`` and
``kinesis-video-archived-media``); where ``API.md`` settles a rule differently (defaults, GetImages limits),
API.md wins. A validated model is a request whose every field is valid; a refusal is ``InvalidArgumentError``
(``ValidationError`` for WidthPixels without HeightPixels, as the GetImages reference says), built by ``refusals``.

Requests that page (GetImages, ListFragments, ListStreams) have ``binding()``: every parameter but NextToken,
canonically encoded (``canonical``), so a token only works with the request that produced it (ListFragments binds
the stream alone: its range travels inside the token).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Literal

from annotated_types import Ge, Le
from pydantic import AfterValidator, Field, StringConstraints

from stillframe.domain.refusals import parse
from stillframe.domain.shapes import (
    INT32_MAX,
    WHOLE,
    Timestamp,
    WireModel,
    invalid_argument,
    model_pattern,
    model_validator,
    rule,
    validation_error,
)
from stillframe.domain.stream_arn import StreamArn
from stillframe.domain.timestamps import MAX_TIMESTAMP_MS
from stillframe.errors import InvalidArgumentError

STREAM_NAME_TEXT = r"[a-zA-Z0-9_.-]+"
STREAM_ARN_TEXT = r"arn:[a-z\d-]+:kinesisvideo:[a-z0-9-]+:[0-9]+:[a-z]+/[a-zA-Z0-9_.-]+/[0-9]+"

StreamName = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=model_pattern(STREAM_NAME_TEXT))]
StreamARN = Annotated[str, StringConstraints(min_length=1, max_length=1024, pattern=model_pattern(STREAM_ARN_TEXT))]
NextToken = Annotated[
    str, StringConstraints(min_length=1, max_length=4096, pattern=model_pattern(r"[a-zA-Z0-9+/]+={0,2}"))
]
SelectorType = Literal["PRODUCER_TIMESTAMP", "SERVER_TIMESTAMP"]
ImageFormat = Literal["JPEG", "PNG"]

DEFAULT_SAMPLING_INTERVAL_MS = 3000  # API.md: SamplingInterval absent -> 3000 ms
MIN_SAMPLING_INTERVAL_MS = 200
MAX_IMAGES_RANGE_MS = 300_000
DEFAULT_JPEG_QUALITY = 80
MAX_IMAGES_PAGE = 25
DEFAULT_LIST_FRAGMENTS_MAX = 100  # the model gives no default; 100 keeps a page's listing cheap

NO_STREAM = "You must specify either StreamName or StreamARN"


def canonical(operation: str, fields: Mapping[str, object]) -> bytes:
    """One stable byte string for a request's parameters."""
    return json.dumps({"Operation": operation, **fields}, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class StreamRef:
    """A stream named by StreamName, StreamARN or both (then they must agree)."""

    name: str | None
    arn: str | None

    @property
    def stream_name(self) -> str:
        """The stream's name: StreamName, or the name part of StreamARN."""
        if self.name is not None:
            return self.name
        if self.arn is not None:
            return stream_name_from_arn(self.arn)
        raise InvalidArgumentError(NO_STREAM)

    def broken_rule(self) -> str | None:
        """The sentence for the rule this breaks (one of the two is needed; if both, the same stream), else None."""
        if self.name is None and self.arn is None:
            return NO_STREAM
        if self.name is not None and self.arn is not None and stream_name_from_arn(self.arn) != self.name:
            return f"StreamName '{self.name}' and StreamARN '{self.arn}' name different streams; specify one of them"
        return None


def stream_name_from_arn(arn: str) -> str:
    """The ``<name>`` of ``arn:...:stream/<name>/<creation ms>`` (a validated StreamARN)."""
    return StreamArn.parse(arn).name


class StreamRequest(WireModel):
    """A request naming its stream by StreamName, StreamARN or both (the StreamRef rule)."""

    stream_name_given: StreamName | None = Field(None, alias="StreamName")
    stream_arn_given: StreamARN | None = Field(None, alias="StreamARN")

    @property
    def stream(self) -> StreamRef:
        """The stream this request names."""
        return StreamRef(name=self.stream_name_given, arn=self.stream_arn_given)

    def streams_named(self) -> tuple[str, ...]:
        return (self.stream.stream_name,)

    @model_validator(mode="after")
    def _names_one_stream(self) -> StreamRequest:
        one_stream(self.stream)
        return self


def one_stream(ref: StreamRef) -> None:
    """A model's check of the StreamRef rule: the refusal keeps its own sentence."""
    broken = ref.broken_rule()
    if broken is not None:
        raise invalid_argument(broken)


def _jpeg_quality(text: str) -> str:
    if not 1 <= int(text) <= 100:
        raise rule("Member must be an integer string from 1 to 100")
    return text


# Checked for PNG too (then unused), as KVS does.
JpegQuality = Annotated[
    str, StringConstraints(max_length=256, pattern=model_pattern(r"[0-9]+")), AfterValidator(_jpeg_quality)
]


class GetImagesRequest(StreamRequest):
    """A valid GetImages request (API.md's table); timestamps in epoch ms, interval already defaulted."""

    selector: SelectorType = Field(alias="ImageSelectorType")
    start_ms: Timestamp = Field(alias="StartTimestamp")
    end_ms: Timestamp = Field(alias="EndTimestamp")
    interval_ms: Annotated[int, Ge(MIN_SAMPLING_INTERVAL_MS), Le(INT32_MAX), WHOLE] = Field(
        DEFAULT_SAMPLING_INTERVAL_MS, alias="SamplingInterval"
    )
    image_format: ImageFormat = Field(alias="Format")
    format_config: Annotated[dict[Literal["JPEGQuality"], JpegQuality], Field(min_length=1, max_length=1)] | None = (
        Field(None, alias="FormatConfig")
    )
    width: Annotated[int, Ge(1), Le(3840), WHOLE] | None = Field(None, alias="WidthPixels")
    height: Annotated[int, Ge(1), Le(2160), WHOLE] | None = Field(None, alias="HeightPixels")
    max_results: Annotated[int, Ge(1), Le(100), WHOLE] | None = Field(None, alias="MaxResults")
    next_token: NextToken | None = Field(None, alias="NextToken")

    @model_validator(mode="after")
    def _range_and_size(self) -> GetImagesRequest:
        if self.end_ms < self.start_ms:
            raise invalid_argument("EndTimestamp must be greater than or equal to StartTimestamp")
        if self.end_ms - self.start_ms > MAX_IMAGES_RANGE_MS:
            raise invalid_argument("EndTimestamp must be no more than 300 seconds after StartTimestamp")
        if self.width is not None and self.height is None:
            raise validation_error("WidthPixels requires HeightPixels: give both, only HeightPixels, or neither")
        return self

    @property
    def quality(self) -> int:
        """FormatConfig's JPEGQuality, default 80."""
        return DEFAULT_JPEG_QUALITY if self.format_config is None else int(self.format_config["JPEGQuality"])

    @property
    def page_size(self) -> int:
        """Samples per page: MaxResults, but never more than 25 (as KVS)."""
        return min(self.max_results or MAX_IMAGES_PAGE, MAX_IMAGES_PAGE)

    def binding(self) -> bytes:
        """Every parameter but NextToken (the stream by name, however it was given), canonically encoded."""
        return canonical(
            "GetImages",
            {
                "Stream": self.stream.stream_name,
                "ImageSelectorType": self.selector,
                "StartMs": self.start_ms,
                "EndMs": self.end_ms,
                "IntervalMs": self.interval_ms,
                "Format": self.image_format,
                "Quality": self.quality,
                "Width": self.width,
                "Height": self.height,
                "MaxResults": self.max_results,
            },
        )


def parse_get_images(body: object) -> GetImagesRequest:
    """Validate a GetImages body outside the API (bench, tests): ``refusals.parse(GetImagesRequest, body)``."""
    return parse(GetImagesRequest, body)


class TimestampRange(WireModel):
    """ListFragments' FragmentSelector.TimestampRange."""

    start_ms: Timestamp = Field(alias="StartTimestamp")
    end_ms: Timestamp = Field(alias="EndTimestamp")

    @model_validator(mode="after")
    def _ordered(self) -> TimestampRange:
        if self.end_ms < self.start_ms:
            raise invalid_argument(
                "FragmentSelector.TimestampRange.EndTimestamp must be greater than or equal to "
                "FragmentSelector.TimestampRange.StartTimestamp"
            )
        return self


class FragmentSelector(WireModel):
    """ListFragments' FragmentSelector: a timeline and a range in it."""

    selector: SelectorType = Field(alias="FragmentSelectorType")
    time_range: TimestampRange = Field(alias="TimestampRange")


class ListFragmentsRequest(StreamRequest):
    """A valid ListFragments request; no FragmentSelector means every fragment (range 0..MAX_TIMESTAMP_MS)."""

    fragment_selector: FragmentSelector | None = Field(None, alias="FragmentSelector")
    max_results: Annotated[int, Ge(1), Le(1000), WHOLE] = Field(DEFAULT_LIST_FRAGMENTS_MAX, alias="MaxResults")
    next_token: NextToken | None = Field(None, alias="NextToken")

    @property
    def selector(self) -> str | None:
        """The timeline chosen, or None (every fragment)."""
        return None if self.fragment_selector is None else self.fragment_selector.selector

    @property
    def start_ms(self) -> int:
        return 0 if self.fragment_selector is None else self.fragment_selector.time_range.start_ms

    @property
    def end_ms(self) -> int:
        return MAX_TIMESTAMP_MS if self.fragment_selector is None else self.fragment_selector.time_range.end_ms

    def binding(self) -> bytes:
        """The stream only: the listing's range travels inside its NextToken, so a token continues its listing
        whether or not the request repeats the FragmentSelector (``operations.list_fragments``)."""
        return canonical("ListFragments", {"Stream": self.stream.stream_name})
