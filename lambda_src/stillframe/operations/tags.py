"""The six tag operations: TagStream/TagResource, UntagStream/UntagResource, ListTagsForStream/ListTagsForResource.

The ``*Stream`` and ``*Resource`` forms differ only in how they name the stream (and what a wrong ARN type is);
``stream_ref_for_stream_tags`` and ``stream_ref_for_resource`` settle that, the rest is shared.
"""

from __future__ import annotations

from typing import Any

from stillframe.catalog.stream_updates import StreamUpdates, stream_ref_for_resource, stream_ref_for_stream_tags
from stillframe.domain.requests import StreamRef
from stillframe.domain.stream_admin_requests import (
    ListTagsForResourceRequest,
    ListTagsForStreamRequest,
    TagResourceRequest,
    TagStreamRequest,
    UntagResourceRequest,
    UntagStreamRequest,
)

TagRequest = TagStreamRequest | TagResourceRequest
UntagRequest = UntagStreamRequest | UntagResourceRequest
ListTagsRequest = ListTagsForStreamRequest | ListTagsForResourceRequest


def _stream(request: TagRequest | UntagRequest | ListTagsRequest) -> StreamRef:
    if isinstance(request, TagStreamRequest | UntagStreamRequest | ListTagsForStreamRequest):
        return stream_ref_for_stream_tags(request.stream)
    return stream_ref_for_resource(request.stream)


def tag(request: TagRequest, *, updates: StreamUpdates) -> dict[str, Any]:
    """Add or replace tags (at most 50 on a stream)."""
    updates.tag(_stream(request), request.tags)
    return {}


def untag(request: UntagRequest, *, updates: StreamUpdates) -> dict[str, Any]:
    """Remove tag keys; keys the stream does not have are ignored."""
    updates.untag(_stream(request), request.keys)
    return {}


def list_tags(request: ListTagsRequest, *, updates: StreamUpdates) -> dict[str, Any]:
    """``{"Tags": {...}}``: every tag, in one page."""
    return {"Tags": updates.tags(_stream(request))}
