"""Stream-update request models: UpdateDataRetention, UpdateStream and the six tag operations.

One pydantic model per operation (two for the tag operations' shared shapes), by the rules of the ``kinesisvideo``
service model and the conventions of ``requests``. Rules the model leaves to prose are cross-field refusals here:
``aws:`` tag keys, a key listed twice in TagResource, and a NextToken on ListTags* (every tag fits one page).
"""

from __future__ import annotations

from typing import Annotated, Literal

from annotated_types import Ge, Le
from pydantic import Field, field_validator

from stillframe.domain.refusals import echo
from stillframe.domain.requests import StreamARN, StreamRef, StreamRequest
from stillframe.domain.shapes import INT32_MAX, WHOLE, WireModel, invalid_argument, model_validator
from stillframe.domain.stream_requests import DeviceName, ListStreamsToken, MediaType, TagKey, Tags, TagValue, Version
from stillframe.errors import InvalidArgumentError

INCREASE = "INCREASE_DATA_RETENTION"
MAX_RETENTION_HOURS = 87_600  # the model's documentation: ten years
MAX_TAGS = 50
RESERVED_TAG_PREFIX = "aws:"

TagKeyList = Annotated[list[TagKey], Field(min_length=1, max_length=MAX_TAGS)]


class UpdateDataRetentionRequest(StreamRequest):
    """A valid UpdateDataRetention request; ``change_hours`` is signed (negative for DECREASE_DATA_RETENTION)."""

    current_version: Version = Field(alias="CurrentVersion")
    operation: Literal["INCREASE_DATA_RETENTION", "DECREASE_DATA_RETENTION"] = Field(alias="Operation")
    change: Annotated[int, Ge(1), Le(INT32_MAX), WHOLE] = Field(alias="DataRetentionChangeInHours")

    @property
    def change_hours(self) -> int:
        return self.change if self.operation == INCREASE else -self.change

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


class UpdateStreamRequest(StreamRequest):
    """A valid UpdateStream request; a field left out keeps the stream's value."""

    current_version: Version = Field(alias="CurrentVersion")
    device_name: DeviceName | None = Field(None, alias="DeviceName")
    media_type: MediaType | None = Field(None, alias="MediaType")


def _not_reserved(keys: list[str] | dict[str, str]) -> None:
    """Keys starting with ``aws:`` are AWS's own (as everywhere in AWS tagging): a client may not set them."""
    for key in keys:
        if key.lower().startswith(RESERVED_TAG_PREFIX):
            raise invalid_argument(f"Tag key {key!r} starts with {RESERVED_TAG_PREFIX!r}, reserved for AWS.")


class TagStreamRequest(StreamRequest):
    """TagStream: tags to add or replace on one stream (Tags is a map)."""

    tags: Tags = Field(alias="Tags")

    @field_validator("tags")
    @classmethod
    def _no_reserved_keys(cls, tags: dict[str, str]) -> dict[str, str]:
        _not_reserved(tags)
        return tags


class TagKeys(WireModel):
    """The tag keys an Untag* request removes (absent keys are ignored)."""

    tag_keys: TagKeyList = Field(alias="TagKeyList")

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.tag_keys)


class NoNextToken(WireModel):
    """ListTags*: every tag fits one page, so no NextToken is ever issued (an empty one is none)."""

    next_token: ListStreamsToken | None = Field(None, alias="NextToken")

    @field_validator("next_token")
    @classmethod
    def _never_issued(cls, token: str | None) -> str | None:
        if token:
            raise invalid_argument("NextToken was not issued by this service: every tag is listed in one page.")
        return token


class UntagStreamRequest(StreamRequest, TagKeys):
    """UntagStream."""


class ListTagsForStreamRequest(StreamRequest, NoNextToken):
    """ListTagsForStream."""


class Tag(WireModel):
    """TagResource's list member."""

    key: TagKey = Field(alias="Key")
    value: TagValue = Field(alias="Value")


class ResourceRequest(WireModel):
    """A ``*Resource`` request: ResourceARN read as a stream reference (the catalog decides the resource type)."""

    resource_arn: StreamARN = Field(alias="ResourceARN")

    @property
    def stream(self) -> StreamRef:
        return StreamRef(name=None, arn=self.resource_arn)

    def streams_named(self) -> tuple[str, ...]:
        return (self.stream.stream_name,)


class TagResourceRequest(ResourceRequest):
    """TagResource: Tags is a list of Key/Value structures, each key at most once."""

    tag_list: Annotated[list[Tag], Field(min_length=1, max_length=MAX_TAGS)] = Field(alias="Tags")

    @model_validator(mode="after")
    def _unique_keys(self) -> TagResourceRequest:
        seen: set[str] = set()
        for index, tag in enumerate(self.tag_list):
            if tag.key in seen:
                raise invalid_argument(
                    f"1 validation error detected: Value {echo(tag.key)} at 'Tags.{index + 1}.member.Key' "
                    "failed to satisfy constraint: Member must be unique within Tags"
                )
            seen.add(tag.key)
        _not_reserved(list(seen))
        return self

    @property
    def tags(self) -> dict[str, str]:
        return {tag.key: tag.value for tag in self.tag_list}


class UntagResourceRequest(ResourceRequest, TagKeys):
    """UntagResource."""


class ListTagsForResourceRequest(ResourceRequest, NoNextToken):
    """ListTagsForResource."""
