"""Validated UpdateImageGenerationConfiguration and DescribeImageGenerationConfiguration requests.

Rules of the ``kinesisvideo`` model's ImageGenerationConfiguration, plus what its documentation states in words:
SamplingInterval 200..20,000 ms, JPEGQuality an integer 1..100, DestinationRegion the stream's own Region (checked
by the route, which knows the Region), and an ``s3://`` Uri (images are delivered to S3 only).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stillframe.domain import params
from stillframe.domain.requests import StreamRef, parse_stream_ref
from stillframe.errors import InvalidArgumentError

CONFIG = "ImageGenerationConfiguration"
DESTINATION = f"{CONFIG}.DestinationConfig"
MIN_SAMPLING_INTERVAL_MS = 200
MAX_SAMPLING_INTERVAL_MS = 20_000

STATUS = params.enum(("ENABLED", "DISABLED"))
SELECTOR = params.enum(("SERVER_TIMESTAMP", "PRODUCER_TIMESTAMP"))
FORMAT = params.enum(("JPEG", "PNG"))
SAMPLING_INTERVAL = params.integer(minimum=MIN_SAMPLING_INTERVAL_MS, maximum=MAX_SAMPLING_INTERVAL_MS)
WIDTH = params.integer(minimum=1, maximum=3840)
HEIGHT = params.integer(minimum=1, maximum=2160)
URI = params.string(min_len=1, max_len=255, pattern=params.compile_pattern(r"^[a-zA-Z_0-9]+:(//)?([^/]+)/?([^*]*)$"))
REGION = params.string(min_len=9, max_len=14, pattern=params.compile_pattern(r"^[a-z]+(-[a-z]+)?-[a-z]+-[0-9]$"))
FORMAT_CONFIG = params.string_map(
    min_entries=1,
    max_entries=1,
    key=params.enum(("JPEGQuality",)),
    value=params.string(max_len=256, pattern=params.compile_pattern(r"^[a-zA-Z_0-9]+")),
)
S3_SCHEME = "s3://"


@dataclass(frozen=True)
class UpdateImageGenerationRequest:
    """A valid UpdateImageGenerationConfiguration request; ``configuration`` None deletes the stream's one."""

    stream: StreamRef
    configuration: dict[str, Any] | None

    @property
    def enabled(self) -> bool:
        """Whether the new configuration generates images."""
        return self.configuration is not None and self.configuration["Status"] == "ENABLED"


@dataclass(frozen=True)
class DescribeImageGenerationRequest:
    """A valid DescribeImageGenerationConfiguration request."""

    stream: StreamRef


def parse_update_image_generation(body: object) -> UpdateImageGenerationRequest:
    """Validate an UpdateImageGenerationConfiguration body."""
    body = params.request_body(body)
    stream = parse_stream_ref(body)
    raw = params.optional(body, CONFIG, params.structure)
    return UpdateImageGenerationRequest(stream, None if raw is None else _configuration(raw))


def parse_describe_image_generation(body: object) -> DescribeImageGenerationRequest:
    """Validate a DescribeImageGenerationConfiguration body."""
    return DescribeImageGenerationRequest(parse_stream_ref(params.request_body(body)))


def _configuration(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration as stored and described: known members only, each checked."""
    config: dict[str, Any] = {
        "Status": params.required(raw, "Status", STATUS, parent=CONFIG),
        "ImageSelectorType": params.required(raw, "ImageSelectorType", SELECTOR, parent=CONFIG),
        "DestinationConfig": _destination(params.required(raw, "DestinationConfig", params.structure, parent=CONFIG)),
        "SamplingInterval": params.required(raw, "SamplingInterval", SAMPLING_INTERVAL, parent=CONFIG),
        "Format": params.required(raw, "Format", FORMAT, parent=CONFIG),
    }
    format_config = params.optional(raw, "FormatConfig", FORMAT_CONFIG, parent=CONFIG)
    if format_config is not None:
        quality = format_config["JPEGQuality"]
        if not quality.isdigit() or not 1 <= int(quality) <= 100:
            raise params.fail(f"{CONFIG}.FormatConfig.JPEGQuality", quality, "Member must be an integer from 1 to 100")
        config["FormatConfig"] = format_config
    for name, check in (("WidthPixels", WIDTH), ("HeightPixels", HEIGHT)):
        value = params.optional(raw, name, check, parent=CONFIG)
        if value is not None:
            config[name] = value
    return config


def _destination(raw: Mapping[str, Any]) -> dict[str, str]:
    uri = params.required(raw, "Uri", URI, parent=DESTINATION)
    if not uri.startswith(S3_SCHEME) or len(uri) == len(S3_SCHEME):
        raise InvalidArgumentError(
            f"{DESTINATION}.Uri {uri!r} is not an S3 URI: images are delivered to s3://<bucket>[/<prefix>]."
        )
    return {"Uri": uri, "DestinationRegion": params.required(raw, "DestinationRegion", REGION, parent=DESTINATION)}
