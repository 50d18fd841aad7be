"""Validated stream-update requests: UpdateDataRetention, UpdateStream and the six tag operations.

Same conventions as ``stream_requests``: one frozen dataclass and one ``parse_<operation>(body)`` per operation, by
the rules of the ``kinesisvideo`` service model; a parser returns a request whose every field is valid or raises
``InvalidArgumentError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stillframe.domain import params
from stillframe.domain.requests import STREAM_ARN, StreamRef, parse_stream_ref
from stillframe.domain.stream_requests import DEVICE_NAME, LIST_STREAMS_TOKEN, MEDIA_TYPE, TAG_PATTERN, TAGS, VERSION
from stillframe.errors import InvalidArgumentError

INCREASE = "INCREASE_DATA_RETENTION"
DECREASE = "DECREASE_DATA_RETENTION"
MAX_RETENTION_HOURS = 87_600  # the model's documentation: ten years
MAX_TAGS = 50
RESERVED_TAG_PREFIX = "aws:"

RETENTION_OPERATION = params.enum((INCREASE, DECREASE))
RETENTION_CHANGE = params.integer(minimum=1)
TAG_KEY = params.string(min_len=1, max_len=128, pattern=TAG_PATTERN)
TAG_VALUE = params.string(max_len=256, pattern=TAG_PATTERN)
# ListTagsFor* answer every tag (at most 50) in one page; the model's NextToken shape is still accepted.
TAGS_TOKEN = LIST_STREAMS_TOKEN


@dataclass(frozen=True)
class UpdateDataRetentionRequest:
    """A valid UpdateDataRetention request; ``change_hours`` is signed (negative for DECREASE_DATA_RETENTION)."""

    stream: StreamRef
    current_version: str
    change_hours: int

    def new_retention(self, current_hours: int) -> int:
        """The retention after the change; InvalidArgumentError when it leaves 0..87600 hours."""
        hours = current_hours + self.change_hours
        if hours < 0:
            raise InvalidArgumentError(
                f"DataRetentionChangeInHours {-self.change_hours} would take the retention of {current_hours} h "
                "below 0 hours."
            )
        if hours > MAX_RETENTION_HOURS:
            raise InvalidArgumentError(
                f"DataRetentionChangeInHours {self.change_hours} would take the retention of {current_hours} h "
                f"above the maximum of {MAX_RETENTION_HOURS} hours."
            )
        return hours


def parse_update_data_retention(body: object) -> UpdateDataRetentionRequest:
    """Validate an UpdateDataRetention body."""
    body = params.request_body(body)
    stream = parse_stream_ref(body)
    version = params.required(body, "CurrentVersion", VERSION)
    operation = params.required(body, "Operation", RETENTION_OPERATION)
    change = params.required(body, "DataRetentionChangeInHours", RETENTION_CHANGE)
    return UpdateDataRetentionRequest(stream, version, change if operation == INCREASE else -change)


@dataclass(frozen=True)
class UpdateStreamRequest:
    """A valid UpdateStream request; a field left out keeps the stream's value."""

    stream: StreamRef
    current_version: str
    device_name: str | None
    media_type: str | None


def parse_update_stream(body: object) -> UpdateStreamRequest:
    """Validate an UpdateStream body."""
    body = params.request_body(body)
    return UpdateStreamRequest(
        stream=parse_stream_ref(body),
        current_version=params.required(body, "CurrentVersion", VERSION),
        device_name=params.optional(body, "DeviceName", DEVICE_NAME),
        media_type=params.optional(body, "MediaType", MEDIA_TYPE),
    )


@dataclass(frozen=True)
class TagRequest:
    """TagStream or TagResource: tags to add or replace on one stream."""

    stream: StreamRef
    tags: dict[str, str]


@dataclass(frozen=True)
class UntagRequest:
    """UntagStream or UntagResource: tag keys to remove (absent keys are ignored)."""

    stream: StreamRef
    keys: tuple[str, ...]


@dataclass(frozen=True)
class ListTagsRequest:
    """ListTagsForStream or ListTagsForResource."""

    stream: StreamRef


def parse_tag_stream(body: object) -> TagRequest:
    """Validate a TagStream body (Tags is a map)."""
    body = params.request_body(body)
    return TagRequest(parse_stream_ref(body), _not_reserved(params.required(body, "Tags", TAGS)))


def parse_untag_stream(body: object) -> UntagRequest:
    """Validate an UntagStream body."""
    body = params.request_body(body)
    return UntagRequest(parse_stream_ref(body), _tag_keys(body))


def parse_list_tags_for_stream(body: object) -> ListTagsRequest:
    """Validate a ListTagsForStream body."""
    body = params.request_body(body)
    _no_next_token(body)
    return ListTagsRequest(parse_stream_ref(body))


def parse_tag_resource(body: object) -> TagRequest:
    """Validate a TagResource body (Tags is a list of Key/Value structures)."""
    body = params.request_body(body)
    stream = _resource(body)
    return TagRequest(stream, _not_reserved(params.required(body, "Tags", _tag_list)))


def parse_untag_resource(body: object) -> UntagRequest:
    """Validate an UntagResource body."""
    body = params.request_body(body)
    return UntagRequest(_resource(body), _tag_keys(body))


def parse_list_tags_for_resource(body: object) -> ListTagsRequest:
    """Validate a ListTagsForResource body."""
    body = params.request_body(body)
    _no_next_token(body)
    return ListTagsRequest(_resource(body))


def _resource(body: Mapping[str, Any]) -> StreamRef:
    """ResourceARN, read as a stream reference (any resource type passes here; the catalog decides)."""
    return StreamRef(name=None, arn=params.required(body, "ResourceARN", STREAM_ARN))


def _tag_keys(body: Mapping[str, Any]) -> tuple[str, ...]:
    def check(value: object, field: str) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise params.fail(field, value, "Member must be a list")
        if not 1 <= len(value) <= MAX_TAGS:
            raise params.fail(field, value, f"Member must have length between 1 and {MAX_TAGS}")
        return tuple(TAG_KEY(key, f"{field}.{index + 1}.member") for index, key in enumerate(value))

    return params.required(body, "TagKeyList", check)


def _tag_list(value: object, field: str) -> dict[str, str]:
    if not isinstance(value, list):
        raise params.fail(field, value, "Member must be a list")
    if not 1 <= len(value) <= MAX_TAGS:
        raise params.fail(field, value, f"Member must have length between 1 and {MAX_TAGS}")
    tags: dict[str, str] = {}
    for index, item in enumerate(value):
        path = f"{field}.{index + 1}.member"
        tag = params.structure(item, path)
        key = params.required(tag, "Key", TAG_KEY, parent=path)
        if key in tags:
            raise params.fail(f"{path}.Key", key, "Member must be unique within Tags")
        tags[key] = params.required(tag, "Value", TAG_VALUE, parent=path)
    return tags


def _not_reserved(tags: dict[str, str]) -> dict[str, str]:
    """Keys starting with ``aws:`` are AWS's own (as everywhere in AWS tagging): a client may not set them."""
    for key in tags:
        if key.lower().startswith(RESERVED_TAG_PREFIX):
            raise InvalidArgumentError(f"Tag key {key!r} starts with {RESERVED_TAG_PREFIX!r}, reserved for AWS.")
    return tags


def _no_next_token(body: Mapping[str, Any]) -> None:
    """Every tag fits one page, so no NextToken is ever issued: an empty one is none, any other is not ours."""
    if params.optional(body, "NextToken", TAGS_TOKEN):
        raise InvalidArgumentError("NextToken was not issued by this service: every tag is listed in one page.")
