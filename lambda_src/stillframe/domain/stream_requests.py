"""Validated control-plane requests: CreateStream, DescribeStream, ListStreams, DeleteStream, GetDataEndpoint.

One frozen dataclass and one ``parse_<operation>(body)`` per operation, by the rules of the ``kinesisvideo``
service model and the conventions of ``requests``: a parser either returns a request whose every field is valid
or raises ``InvalidArgumentError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stillframe.domain import params
from stillframe.domain.params import compile_pattern
from stillframe.domain.requests import (
    STREAM_ARN,
    STREAM_NAME,
    STREAM_NAME_PATTERN,
    StreamRef,
    canonical,
    parse_stream_ref,
    stream_name_from_arn,
)

LIST_STREAMS_TOKEN_PATTERN = compile_pattern(r"[a-zA-Z0-9+/=]*")
# The model's tag patterns use \p{L}\p{Z}\p{N}, which Python's re does not know.
TAG_PATTERN = params.UnicodeClassPattern(r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*", categories="LZN", extra="_.:/=+-@")

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

DEFAULT_LIST_STREAMS_MAX = 10_000  # the model's documented default

# Field checks, named for the model shapes they implement.
LIST_STREAMS_TOKEN = params.string(max_len=1024, pattern=LIST_STREAMS_TOKEN_PATTERN)
STORAGE_TIER = params.enum(("HOT", "WARM"))
DEVICE_NAME = params.string(min_len=1, max_len=128, pattern=STREAM_NAME_PATTERN)
MEDIA_TYPE = params.string(
    min_len=1, max_len=128, pattern=compile_pattern(r"[\w\-\.\+]+/[\w\-\.\+]+(,[\w\-\.\+]+/[\w\-\.\+]+)*")
)
KMS_KEY_ID = params.string(min_len=1, max_len=2048, pattern=compile_pattern(r".+"))
VERSION = params.string(min_len=1, max_len=64, pattern=compile_pattern(r"[a-zA-Z0-9]+"))
TAGS = params.string_map(
    min_entries=1,
    max_entries=50,
    key=params.string(min_len=1, max_len=128, pattern=TAG_PATTERN),
    value=params.string(max_len=256, pattern=TAG_PATTERN),
)


@dataclass(frozen=True)
class CreateStreamRequest:
    """A valid CreateStream request; DataRetentionInHours defaults to 0 (as KVS)."""

    stream_name: str
    device_name: str | None
    media_type: str | None
    kms_key_id: str | None
    data_retention_hours: int
    tags: dict[str, str]
    storage_tier: str | None


def parse_create_stream(body: object) -> CreateStreamRequest:
    """Validate a CreateStream body into a CreateStreamRequest."""
    body = params.request_body(body)
    retention = params.optional(body, "DataRetentionInHours", params.integer(minimum=0))
    return CreateStreamRequest(
        stream_name=params.required(body, "StreamName", STREAM_NAME),
        device_name=params.optional(body, "DeviceName", DEVICE_NAME),
        media_type=params.optional(body, "MediaType", MEDIA_TYPE),
        kms_key_id=params.optional(body, "KmsKeyId", KMS_KEY_ID),
        data_retention_hours=0 if retention is None else retention,
        tags=params.optional(body, "Tags", TAGS) or {},
        storage_tier=_storage_tier(body),
    )


def _storage_tier(body: Mapping[str, Any]) -> str | None:
    """StreamStorageConfiguration is accepted when well-formed; only its tier is kept."""
    storage = params.optional(body, "StreamStorageConfiguration", params.structure)
    if storage is None:
        return None
    return params.required(storage, "DefaultStorageTier", STORAGE_TIER, parent="StreamStorageConfiguration")


@dataclass(frozen=True)
class DescribeStreamRequest:
    """A valid DescribeStream request."""

    stream: StreamRef


def parse_describe_stream(body: object) -> DescribeStreamRequest:
    """Validate a DescribeStream body into a DescribeStreamRequest."""
    return DescribeStreamRequest(stream=parse_stream_ref(params.request_body(body)))


@dataclass(frozen=True)
class ListStreamsRequest:
    """A valid ListStreams request; ``begins_with`` is StreamNameCondition's ComparisonValue (BEGINS_WITH)."""

    max_results: int
    begins_with: str | None
    next_token: str | None

    def binding(self) -> bytes:
        """Every parameter but NextToken, canonically encoded."""
        return canonical("ListStreams", {"MaxResults": self.max_results, "BeginsWith": self.begins_with})


def parse_list_streams(body: object) -> ListStreamsRequest:
    """Validate a ListStreams body into a ListStreamsRequest (an empty NextToken counts as none)."""
    body = params.request_body(body)
    max_results = params.optional(body, "MaxResults", params.integer(minimum=1, maximum=10_000))
    condition = params.optional(body, "StreamNameCondition", params.structure)
    prefix = None
    if condition is not None:
        # BEGINS_WITH is the only operator, so it may be left out; a condition without a value is meaningless.
        params.optional(condition, "ComparisonOperator", params.enum(("BEGINS_WITH",)), parent="StreamNameCondition")
        prefix = params.required(condition, "ComparisonValue", STREAM_NAME, parent="StreamNameCondition")
    return ListStreamsRequest(
        max_results=DEFAULT_LIST_STREAMS_MAX if max_results is None else max_results,
        begins_with=prefix,
        next_token=params.optional(body, "NextToken", LIST_STREAMS_TOKEN) or None,
    )


@dataclass(frozen=True)
class DeleteStreamRequest:
    """A valid DeleteStream request; CurrentVersion, when given, must match the stream's version."""

    stream_arn: str
    current_version: str | None

    @property
    def stream_name(self) -> str:
        """The name part of StreamARN."""
        return stream_name_from_arn(self.stream_arn)


def parse_delete_stream(body: object) -> DeleteStreamRequest:
    """Validate a DeleteStream body into a DeleteStreamRequest."""
    body = params.request_body(body)
    return DeleteStreamRequest(
        stream_arn=params.required(body, "StreamARN", STREAM_ARN),
        current_version=params.optional(body, "CurrentVersion", VERSION),
    )


@dataclass(frozen=True)
class GetDataEndpointRequest:
    """A valid GetDataEndpoint request (every APIName gets the same endpoint here)."""

    stream: StreamRef
    api_name: str


def parse_get_data_endpoint(body: object) -> GetDataEndpointRequest:
    """Validate a GetDataEndpoint body into a GetDataEndpointRequest."""
    body = params.request_body(body)
    stream = parse_stream_ref(body)
    return GetDataEndpointRequest(stream=stream, api_name=params.required(body, "APIName", params.enum(API_NAMES)))
