"""Validated archived-media requests (GetImages, ListFragments) and the stream reference every operation shares.

One frozen dataclass and one ``parse_<operation>(body)`` per operation; the control-plane operations are in
``stream_requests``. Field types, lengths, patterns, ranges and enums come from the AWS SDK service models
(``kinesisvideo`` and ``kinesis-video-archived-media``); where ``API.md`` settles a rule
differently (defaults, GetImages limits), API.md wins. A parser either returns a request whose
every field is valid or raises ``InvalidArgumentError`` (``ValidationError`` for WidthPixels
without HeightPixels, as the GetImages reference says).

Requests that page (GetImages, ListFragments, ListStreams) have ``binding()``: every parameter
but NextToken, canonically encoded (``canonical``), so a token only works with the request that produced it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stillframe.domain import params
from stillframe.domain.params import MAX_TIMESTAMP_MS, compile_pattern
from stillframe.errors import InvalidArgumentError, ValidationError

STREAM_NAME_PATTERN = compile_pattern(r"[a-zA-Z0-9_.-]+")
STREAM_ARN_PATTERN = compile_pattern(r"arn:[a-z\d-]+:kinesisvideo:[a-z0-9-]+:[0-9]+:[a-z]+/[a-zA-Z0-9_.-]+/[0-9]+")
NEXT_TOKEN_PATTERN = compile_pattern(r"[a-zA-Z0-9+/]+={0,2}")
JPEG_QUALITY_PATTERN = compile_pattern(r"[0-9]+")

SELECTOR_TYPES = ("PRODUCER_TIMESTAMP", "SERVER_TIMESTAMP")
IMAGE_FORMATS = ("JPEG", "PNG")

DEFAULT_SAMPLING_INTERVAL_MS = 3000  # API.md: SamplingInterval absent -> 3000 ms
MIN_SAMPLING_INTERVAL_MS = 200
MAX_IMAGES_RANGE_MS = 300_000
DEFAULT_JPEG_QUALITY = 80
MAX_IMAGES_PAGE = 25
DEFAULT_LIST_FRAGMENTS_MAX = 100  # the model gives no default; 100 keeps a page's listing cheap

# Field checks, named for the model shapes they implement.
STREAM_NAME = params.string(min_len=1, max_len=256, pattern=STREAM_NAME_PATTERN)
STREAM_ARN = params.string(min_len=1, max_len=1024, pattern=STREAM_ARN_PATTERN)
NEXT_TOKEN = params.string(min_len=1, max_len=4096, pattern=NEXT_TOKEN_PATTERN)
SELECTOR_TYPE = params.enum(SELECTOR_TYPES)


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
        raise InvalidArgumentError("You must specify either StreamName or StreamARN")

    def check(self) -> StreamRef:
        """Enforce the rule (one of the two is needed; if both, they name the same stream) and return self."""
        if self.name is None and self.arn is None:
            raise InvalidArgumentError("You must specify either StreamName or StreamARN")
        if self.name is not None and self.arn is not None and stream_name_from_arn(self.arn) != self.name:
            raise InvalidArgumentError(
                f"StreamName '{self.name}' and StreamARN '{self.arn}' name different streams; specify one of them"
            )
        return self


def stream_name_from_arn(arn: str) -> str:
    """The ``<name>`` of ``arn:...:stream/<name>/<creation ms>`` (a name cannot contain '/')."""
    return arn.split("/")[1]


def parse_stream_ref(body: Mapping[str, Any]) -> StreamRef:
    """Read StreamName and StreamARN and enforce the StreamRef rule."""
    name = params.optional(body, "StreamName", STREAM_NAME)
    return StreamRef(name=name, arn=params.optional(body, "StreamARN", STREAM_ARN)).check()


@dataclass(frozen=True)
class GetImagesRequest:
    """A valid GetImages request; timestamps in epoch ms, interval and quality already defaulted."""

    stream: StreamRef
    selector: str
    start_ms: int
    end_ms: int
    interval_ms: int
    image_format: str
    quality: int
    width: int | None
    height: int | None
    max_results: int | None
    next_token: str | None

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
    """Validate a GetImages body (API.md's table) into a GetImagesRequest."""
    body = params.request_body(body)
    stream = parse_stream_ref(body)
    selector = params.required(body, "ImageSelectorType", SELECTOR_TYPE)
    start_ms, end_ms = _images_range(body)
    image_format = params.required(body, "Format", params.enum(IMAGE_FORMATS))
    width, height = _image_size(body)
    return GetImagesRequest(
        stream=stream,
        selector=selector,
        start_ms=start_ms,
        end_ms=end_ms,
        interval_ms=_sampling_interval(body),
        image_format=image_format,
        quality=_jpeg_quality(body),
        width=width,
        height=height,
        max_results=params.optional(body, "MaxResults", params.integer(minimum=1, maximum=100)),
        next_token=params.optional(body, "NextToken", NEXT_TOKEN),
    )


def _images_range(body: Mapping[str, Any]) -> tuple[int, int]:
    start_ms = params.required(body, "StartTimestamp", params.timestamp)
    end_ms = params.required(body, "EndTimestamp", params.timestamp)
    if end_ms < start_ms:
        raise InvalidArgumentError("EndTimestamp must be greater than or equal to StartTimestamp")
    if end_ms - start_ms > MAX_IMAGES_RANGE_MS:
        raise InvalidArgumentError("EndTimestamp must be no more than 300 seconds after StartTimestamp")
    return start_ms, end_ms


def _sampling_interval(body: Mapping[str, Any]) -> int:
    interval = params.optional(body, "SamplingInterval", params.integer(minimum=MIN_SAMPLING_INTERVAL_MS))
    return DEFAULT_SAMPLING_INTERVAL_MS if interval is None else interval


def _image_size(body: Mapping[str, Any]) -> tuple[int | None, int | None]:
    width = params.optional(body, "WidthPixels", params.integer(minimum=1, maximum=3840))
    height = params.optional(body, "HeightPixels", params.integer(minimum=1, maximum=2160))
    if width is not None and height is None:
        raise ValidationError("WidthPixels requires HeightPixels: give both, only HeightPixels, or neither")
    return width, height


def _jpeg_quality(body: Mapping[str, Any]) -> int:
    """FormatConfig must be exactly ``{"JPEGQuality": "<1..100>"}``; it is checked for PNG too, then unused."""
    config = params.optional(body, "FormatConfig", _FORMAT_CONFIG)
    return DEFAULT_JPEG_QUALITY if config is None else int(config["JPEGQuality"])


def _quality(value: object, field: str) -> str:
    text = params.string(max_len=256)(value, field)
    if not (JPEG_QUALITY_PATTERN.fullmatch(text) and 1 <= int(text) <= 100):
        raise params.fail(field, value, "Member must be an integer string from 1 to 100")
    return text


_FORMAT_CONFIG = params.string_map(min_entries=1, max_entries=1, key=params.enum(("JPEGQuality",)), value=_quality)


@dataclass(frozen=True)
class ListFragmentsRequest:
    """A valid ListFragments request; ``selector`` None means every fragment (range 0..MAX_TIMESTAMP_MS)."""

    stream: StreamRef
    selector: str | None
    start_ms: int
    end_ms: int
    max_results: int
    next_token: str | None

    def binding(self) -> bytes:
        """Every parameter but NextToken, canonically encoded."""
        return canonical(
            "ListFragments",
            {
                "Stream": self.stream.stream_name,
                "FragmentSelectorType": self.selector,
                "StartMs": self.start_ms,
                "EndMs": self.end_ms,
                "MaxResults": self.max_results,
            },
        )


def parse_list_fragments(body: object) -> ListFragmentsRequest:
    """Validate a ListFragments body into a ListFragmentsRequest."""
    body = params.request_body(body)
    stream = parse_stream_ref(body)
    selector = params.optional(body, "FragmentSelector", params.structure)
    kind, start_ms, end_ms = (None, 0, MAX_TIMESTAMP_MS) if selector is None else _fragment_selector(selector)
    max_results = params.optional(body, "MaxResults", params.integer(minimum=1, maximum=1000))
    return ListFragmentsRequest(
        stream=stream,
        selector=kind,
        start_ms=start_ms,
        end_ms=end_ms,
        max_results=DEFAULT_LIST_FRAGMENTS_MAX if max_results is None else max_results,
        next_token=params.optional(body, "NextToken", NEXT_TOKEN),
    )


def _fragment_selector(selector: Mapping[str, Any]) -> tuple[str, int, int]:
    kind = params.required(selector, "FragmentSelectorType", SELECTOR_TYPE, parent="FragmentSelector")
    time_range = params.required(selector, "TimestampRange", params.structure, parent="FragmentSelector")
    parent = "FragmentSelector.TimestampRange"
    start_ms = params.required(time_range, "StartTimestamp", params.timestamp, parent=parent)
    end_ms = params.required(time_range, "EndTimestamp", params.timestamp, parent=parent)
    if end_ms < start_ms:
        raise InvalidArgumentError(f"{parent}.EndTimestamp must be greater than or equal to {parent}.StartTimestamp")
    return kind, start_ms, end_ms
