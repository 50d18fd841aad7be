"""Validated requests: one frozen dataclass and one ``parse_<operation>(body)`` per operation.

Field types, lengths, patterns, ranges and enums come from the AWS SDK service models
(``kinesisvideo`` and ``kinesis-video-archived-media``); where ``docs/API.md`` settles a rule
differently (defaults, GetImages limits), API.md wins. A parser either returns a request whose
every field is valid or raises ``InvalidArgumentError`` (``ValidationError`` for WidthPixels
without HeightPixels, as the GetImages reference says).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stillframe.domain import params
from stillframe.domain.params import compile_pattern
from stillframe.errors import InvalidArgumentError, ValidationError

STREAM_NAME_PATTERN = compile_pattern(r"[a-zA-Z0-9_.-]+")
STREAM_ARN_PATTERN = compile_pattern(r"arn:[a-z\d-]+:kinesisvideo:[a-z0-9-]+:[0-9]+:[a-z]+/[a-zA-Z0-9_.-]+/[0-9]+")
NEXT_TOKEN_PATTERN = compile_pattern(r"[a-zA-Z0-9+/]+={0,2}")
LIST_STREAMS_TOKEN_PATTERN = compile_pattern(r"[a-zA-Z0-9+/=]*")
MEDIA_TYPE_PATTERN = compile_pattern(r"[\w\-\.\+]+/[\w\-\.\+]+(,[\w\-\.\+]+/[\w\-\.\+]+)*")
VERSION_PATTERN = compile_pattern(r"[a-zA-Z0-9]+")
KMS_KEY_PATTERN = compile_pattern(r".+")
JPEG_QUALITY_PATTERN = compile_pattern(r"[0-9]+")
# The model's tag patterns use \p{L}\p{Z}\p{N}, which Python's re does not know.
_TAG_TEXT = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*"
TAG_PATTERN = params.UnicodeClassPattern(_TAG_TEXT, categories="LZN", extra="_.:/=+-@")

SELECTOR_TYPES = ("PRODUCER_TIMESTAMP", "SERVER_TIMESTAMP")
IMAGE_FORMATS = ("JPEG", "PNG")
STORAGE_TIERS = ("HOT", "WARM")
COMPARISON_OPERATORS = ("BEGINS_WITH",)
API_NAMES = (
    "PUT_MEDIA",
    "GET_MEDIA",
    "LIST_FRAGMENTS",
    "GET_MEDIA_FOR_FRAGMENT_LIST",
    "GET_HLS_STREAMING_SESSION_URL",
    "GET_DASH_STREAMING_SESSION_URL",
    "GET_CLIP",
    "GET_IMAGES",
)

DEFAULT_SAMPLING_INTERVAL_MS = 3000  # API.md: SamplingInterval absent -> 3000 ms
MIN_SAMPLING_INTERVAL_MS = 200
MAX_IMAGES_RANGE_MS = 300_000
DEFAULT_JPEG_QUALITY = 80
MAX_IMAGES_PAGE = 25
DEFAULT_LIST_FRAGMENTS_MAX = 100  # the model gives no default; 100 matches KVS's documented CLI default
DEFAULT_LIST_STREAMS_MAX = 10_000  # the model's documented default
MAX_TOKEN_LENGTH = 4096
MAX_LIST_STREAMS_TOKEN_LENGTH = 1024


def _canonical(operation: str, fields: Mapping[str, object]) -> bytes:
    """One stable byte string for a request's parameters, to bind a NextToken to them."""
    return json.dumps({"Operation": operation, **fields}, sort_keys=True, separators=(",", ":")).encode()


def _next_token(body: Mapping[str, Any]) -> str | None:
    return params.string(body, "NextToken", min_len=1, max_len=MAX_TOKEN_LENGTH, pattern=NEXT_TOKEN_PATTERN)


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
        """Enforce the rule: at least one of the two, and both naming the same stream; return self."""
        if self.name is None and self.arn is None:
            raise InvalidArgumentError("You must specify either StreamName or StreamARN")
        if self.name is not None and self.arn is not None and stream_name_from_arn(self.arn) != self.name:
            raise InvalidArgumentError(
                f"StreamName '{self.name}' and StreamARN '{self.arn}' name different streams; specify one of them"
            )
        return self


def stream_name_from_arn(arn: str) -> str:
    """The ``<name>`` of ``arn:...:stream/<name>/<creation ms>`` (names cannot contain '/')."""
    return arn.split("/")[1]


def parse_stream_ref(body: Mapping[str, Any]) -> StreamRef:
    """Read and check StreamName / StreamARN."""
    name = params.string(body, "StreamName", min_len=1, max_len=256, pattern=STREAM_NAME_PATTERN)
    return StreamRef(name=name, arn=_stream_arn(body, required=False)).check()


def _stream_arn(body: Mapping[str, Any], *, required: bool) -> str | None:
    return params.string(body, "StreamARN", min_len=1, max_len=1024, pattern=STREAM_ARN_PATTERN, required=required)


@dataclass(frozen=True)
class GetImagesRequest:
    """A valid GetImages request; timestamps in epoch ms, quality already defaulted."""

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
        """Every parameter but NextToken, canonically encoded: a NextToken is valid only for these."""
        return _canonical(
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
    selector = params.enum(body, "ImageSelectorType", SELECTOR_TYPES, required=True)
    start_ms, end_ms = _images_range(body)
    image_format = params.enum(body, "Format", IMAGE_FORMATS, required=True)
    width, height = _image_size(body)
    return GetImagesRequest(
        stream=stream,
        selector=str(selector),
        start_ms=start_ms,
        end_ms=end_ms,
        interval_ms=_sampling_interval(body),
        image_format=str(image_format),
        quality=_jpeg_quality(body),
        width=width,
        height=height,
        max_results=params.integer(body, "MaxResults", minimum=1, maximum=100),
        next_token=_next_token(body),
    )


def _images_range(body: Mapping[str, Any]) -> tuple[int, int]:
    start_ms = params.timestamp(body, "StartTimestamp", required=True)
    end_ms = params.timestamp(body, "EndTimestamp", required=True)
    assert start_ms is not None and end_ms is not None  # required=True never returns None
    if end_ms < start_ms:
        raise InvalidArgumentError("EndTimestamp must be greater than or equal to StartTimestamp")
    if end_ms - start_ms > MAX_IMAGES_RANGE_MS:
        raise InvalidArgumentError("EndTimestamp must be no more than 300 seconds after StartTimestamp")
    return start_ms, end_ms


def _sampling_interval(body: Mapping[str, Any]) -> int:
    interval = params.integer(body, "SamplingInterval", minimum=MIN_SAMPLING_INTERVAL_MS)
    return DEFAULT_SAMPLING_INTERVAL_MS if interval is None else interval


def _image_size(body: Mapping[str, Any]) -> tuple[int | None, int | None]:
    width = params.integer(body, "WidthPixels", minimum=1, maximum=3840)
    height = params.integer(body, "HeightPixels", minimum=1, maximum=2160)
    if width is not None and height is None:
        raise ValidationError("WidthPixels requires HeightPixels: give both, only HeightPixels, or neither")
    return width, height


def _jpeg_quality(body: Mapping[str, Any]) -> int:
    """FormatConfig must be exactly ``{"JPEGQuality": "<1..100>"}``; it is checked for PNG too, then unused."""
    config = params.string_map(body, "FormatConfig", min_entries=1, max_entries=1, key=_format_key, value=_quality)
    return DEFAULT_JPEG_QUALITY if config is None else int(config["JPEGQuality"])


def _format_key(key: object, field: str) -> str:
    if key != "JPEGQuality":
        raise params.fail(field, key, "Member must satisfy enum value set: [JPEGQuality]")
    return "JPEGQuality"


def _quality(value: object, field: str) -> str:
    text = params.check_string(value, field, max_len=256)
    if not (JPEG_QUALITY_PATTERN.fullmatch(text) and 1 <= int(text) <= 100):
        raise params.fail(field, value, "Member must be an integer string from 1 to 100")
    return text
