"""Control-plane request models: CreateStream, DescribeStream, ListStreams, DeleteStream, GetDataEndpoint.

One pydantic model per operation, by the rules of the ``kinesisvideo`` service model and the conventions of
``requests`` (wire names as aliases, shapes from ``shapes``, refusals from ``refusals``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from annotated_types import Ge, Le
from pydantic import Field, StringConstraints

from stillframe.domain.requests import (
    STREAM_NAME_TEXT,
    StreamARN,
    StreamName,
    StreamRequest,
    canonical,
    stream_name_from_arn,
)
from stillframe.domain.shapes import INT32_MAX, WHOLE, WireModel, model_pattern

LIST_STREAMS_TOKEN_TEXT = r"[a-zA-Z0-9+/=]*"
MEDIA_TYPE_TEXT = r"[\w\-\.\+]+/[\w\-\.\+]+(,[\w\-\.\+]+/[\w\-\.\+]+)*"
VERSION_TEXT = r"[a-zA-Z0-9]+"
TAG_TEXT = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*"

DeviceName = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=model_pattern(STREAM_NAME_TEXT))]
MediaType = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=model_pattern(MEDIA_TYPE_TEXT))]
KmsKeyId = Annotated[str, StringConstraints(min_length=1, max_length=2048, pattern=model_pattern(r".+"))]
Version = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=model_pattern(VERSION_TEXT))]
TagKey = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=model_pattern(TAG_TEXT))]
TagValue = Annotated[str, StringConstraints(max_length=256, pattern=model_pattern(TAG_TEXT))]
Tags = Annotated[dict[TagKey, TagValue], Field(min_length=1, max_length=50)]
ListStreamsToken = Annotated[str, StringConstraints(max_length=1024, pattern=model_pattern(LIST_STREAMS_TOKEN_TEXT))]
APIName = Literal[
    "PUT_MEDIA",
    "GET_MEDIA",
    "LIST_FRAGMENTS",
    "GET_MEDIA_FOR_FRAGMENT_LIST",
    "GET_HLS_STREAMING_SESSION_URL",
    "GET_DASH_STREAMING_SESSION_URL",
    "GET_CLIP",
    "GET_IMAGES",
]
API_NAMES: tuple[str, ...] = APIName.__args__  # type: ignore[attr-defined]

DEFAULT_LIST_STREAMS_MAX = 10_000  # the model's documented default


class StreamStorageConfiguration(WireModel):
    """Accepted when well-formed; only its tier is kept."""

    default_tier: Literal["HOT", "WARM"] = Field(alias="DefaultStorageTier")


class CreateStreamRequest(WireModel):
    """A valid CreateStream request; DataRetentionInHours defaults to 0 (as KVS)."""

    stream_name: StreamName = Field(alias="StreamName")
    device_name: DeviceName | None = Field(None, alias="DeviceName")
    media_type: MediaType | None = Field(None, alias="MediaType")
    kms_key_id: KmsKeyId | None = Field(None, alias="KmsKeyId")
    data_retention_hours: Annotated[int, Ge(0), Le(INT32_MAX), WHOLE] = Field(0, alias="DataRetentionInHours")
    tags: Tags = Field(default_factory=dict, alias="Tags")
    storage: StreamStorageConfiguration | None = Field(None, alias="StreamStorageConfiguration")

    def streams_named(self) -> tuple[str, ...]:
        return (self.stream_name,)

    @property
    def storage_tier(self) -> str | None:
        return None if self.storage is None else self.storage.default_tier


class DescribeStreamRequest(StreamRequest):
    """A valid DescribeStream request."""


class StreamNameCondition(WireModel):
    """ListStreams' filter; BEGINS_WITH is the only operator, so it may be left out."""

    operator: Literal["BEGINS_WITH"] | None = Field(None, alias="ComparisonOperator")
    value: StreamName = Field(alias="ComparisonValue")


class ListStreamsRequest(WireModel):
    """A valid ListStreams request; ``begins_with`` is StreamNameCondition's ComparisonValue (BEGINS_WITH)."""

    max_results: Annotated[int, Ge(1), Le(10_000), WHOLE] = Field(DEFAULT_LIST_STREAMS_MAX, alias="MaxResults")
    condition: StreamNameCondition | None = Field(None, alias="StreamNameCondition")
    token: ListStreamsToken | None = Field(None, alias="NextToken")

    @property
    def begins_with(self) -> str | None:
        return None if self.condition is None else self.condition.value

    @property
    def next_token(self) -> str | None:
        """NextToken; an empty one counts as none."""
        return self.token or None

    def binding(self) -> bytes:
        """Every parameter but NextToken, canonically encoded."""
        return canonical("ListStreams", {"MaxResults": self.max_results, "BeginsWith": self.begins_with})


class DeleteStreamRequest(WireModel):
    """A valid DeleteStream request; CurrentVersion, when given, must match the stream's version."""

    stream_arn: StreamARN = Field(alias="StreamARN")
    current_version: Version | None = Field(None, alias="CurrentVersion")

    @property
    def stream_name(self) -> str:
        """The name part of StreamARN."""
        return stream_name_from_arn(self.stream_arn)

    def streams_named(self) -> tuple[str, ...]:
        return (self.stream_name,)


class GetDataEndpointRequest(StreamRequest):
    """A valid GetDataEndpoint request (every APIName gets the same endpoint here)."""

    api_name: APIName = Field(alias="APIName")
