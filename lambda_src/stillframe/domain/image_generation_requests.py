"""UpdateImageGenerationConfiguration and DescribeImageGenerationConfiguration request models.

Rules of the ``kinesisvideo`` model's ImageGenerationConfiguration, plus what its documentation states in words:
SamplingInterval 200..20,000 ms, JPEGQuality an integer 1..100, DestinationRegion the stream's own Region (checked
by the operation, which knows the Region), and an ``s3://`` Uri (images are delivered to S3 only) whose bucket
follows S3's bucket naming rules (a name S3 would refuse is refused here, so the embedded store's delivery folder
can never be left through a bucket such as ``..``).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from annotated_types import Ge, Le
from pydantic import AfterValidator, Field, StringConstraints

from stillframe.domain.requests import DEFAULT_JPEG_QUALITY, StreamRequest
from stillframe.domain.shapes import WHOLE, WireModel, invalid_argument, model_pattern, rule

CONFIG = "ImageGenerationConfiguration"
DESTINATION = f"{CONFIG}.DestinationConfig"
MIN_SAMPLING_INTERVAL_MS = 200
MAX_SAMPLING_INTERVAL_MS = 20_000
S3_SCHEME = "s3://"


_BUCKET_CHARACTERS = re.compile(r"[a-z0-9.-]+")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_rule_broken(name: str) -> str | None:
    """The S3 bucket naming rule (general purpose buckets) ``name`` breaks, or None when it is a valid name."""
    if not 3 <= len(name) <= 63:
        return "a bucket name is 3 to 63 characters long"
    if not _BUCKET_CHARACTERS.fullmatch(name):
        return "a bucket name has only lowercase letters, digits, dots (.) and hyphens (-)"
    if not (name[0].isalnum() and name[-1].isalnum()):
        return "a bucket name begins and ends with a letter or digit"
    if ".." in name:
        return "a bucket name has no two adjacent dots"
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        pass
    else:
        return "a bucket name is not an IP address"
    if name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES):
        return "a bucket name does not use S3's reserved prefixes (xn--, sthree-, ...) or suffixes (-s3alias, ...)"
    return None


def _s3_uri(uri: str) -> str:
    if not uri.startswith(S3_SCHEME) or len(uri) == len(S3_SCHEME):
        raise invalid_argument(
            f"{DESTINATION}.Uri {uri!r} is not an S3 URI: images are delivered to s3://<bucket>[/<prefix>]."
        )
    bucket = uri[len(S3_SCHEME) :].split("/", 1)[0]
    broken = bucket_rule_broken(bucket)
    if broken is not None:
        raise invalid_argument(f"{DESTINATION}.Uri {uri!r} names the bucket {bucket!r}, which S3 refuses: {broken}.")
    return uri


def _quality(text: str) -> str:
    if not text.isdigit() or not 1 <= int(text) <= 100:
        raise rule("Member must be an integer from 1 to 100")
    return text


Uri = Annotated[
    str,
    StringConstraints(min_length=1, max_length=255, pattern=model_pattern(r"^[a-zA-Z_0-9]+:(//)?([^/]+)/?([^*]*)$")),
    AfterValidator(_s3_uri),
]
Region = Annotated[
    str, StringConstraints(min_length=9, max_length=14, pattern=model_pattern(r"^[a-z]+(-[a-z]+)?-[a-z]+-[0-9]$"))
]
JpegQuality = Annotated[
    str, StringConstraints(max_length=256, pattern=model_pattern(r"^[a-zA-Z_0-9]+")), AfterValidator(_quality)
]


class DestinationConfig(WireModel):
    """Where generated images go: an S3 URI in the stream's Region."""

    uri: Uri = Field(alias="Uri")
    region: Region = Field(alias="DestinationRegion")


class ImageGenerationConfiguration(WireModel):
    """The configuration as stored on the stream record and described back (known members only)."""

    status: Literal["ENABLED", "DISABLED"] = Field(alias="Status")
    selector: Literal["SERVER_TIMESTAMP", "PRODUCER_TIMESTAMP"] = Field(alias="ImageSelectorType")
    destination: DestinationConfig = Field(alias="DestinationConfig")
    interval_ms: Annotated[int, Ge(MIN_SAMPLING_INTERVAL_MS), Le(MAX_SAMPLING_INTERVAL_MS), WHOLE] = Field(
        alias="SamplingInterval"
    )
    image_format: Literal["JPEG", "PNG"] = Field(alias="Format")
    format_config: Annotated[dict[Literal["JPEGQuality"], JpegQuality], Field(min_length=1, max_length=1)] | None = (
        Field(None, alias="FormatConfig")
    )
    width: Annotated[int, Ge(1), Le(3840), WHOLE] | None = Field(None, alias="WidthPixels")
    height: Annotated[int, Ge(1), Le(2160), WHOLE] | None = Field(None, alias="HeightPixels")

    @property
    def quality(self) -> int:
        """JPEGQuality as a number (GetImages' default when absent; ignored for PNG)."""
        text = (self.format_config or {}).get("JPEGQuality")
        return DEFAULT_JPEG_QUALITY if text is None else int(text)

    def stored(self) -> dict[str, Any]:
        """The configuration's wire form, as kept on the stream record."""
        return self.model_dump(by_alias=True, exclude_none=True)


class UpdateImageGenerationRequest(StreamRequest):
    """A valid UpdateImageGenerationConfiguration request; no configuration deletes the stream's one."""

    config: ImageGenerationConfiguration | None = Field(None, alias="ImageGenerationConfiguration")

    @property
    def enabled(self) -> bool:
        """Whether the new configuration generates images."""
        return self.config is not None and self.config.status == "ENABLED"


class DescribeImageGenerationRequest(StreamRequest):
    """A valid DescribeImageGenerationConfiguration request."""
