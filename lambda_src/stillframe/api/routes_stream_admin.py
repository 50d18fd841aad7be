"""Stream-update routes (the kinesisvideo model): UpdateDataRetention, UpdateStream, the six tag operations.

Light, like ``routes_streams``: no media imports. Paths are the model's ``http.requestUri`` exactly (the
``*Resource`` operations are capitalised there).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from stillframe.api.context import operations
from stillframe.domain.stream_admin_requests import (
    ListTagsForResourceRequest,
    ListTagsForStreamRequest,
    TagResourceRequest,
    TagStreamRequest,
    UntagResourceRequest,
    UntagStreamRequest,
    UpdateDataRetentionRequest,
    UpdateStreamRequest,
)

router = Router()


@router.post("/updateDataRetention")
def update_data_retention(request: UpdateDataRetentionRequest) -> dict[str, Any]:
    return operations(router).update_data_retention(request)


@router.post("/updateStream")
def update_stream(request: UpdateStreamRequest) -> dict[str, Any]:
    return operations(router).update_stream(request)


@router.post("/tagStream")
def tag_stream(request: TagStreamRequest) -> dict[str, Any]:
    return operations(router).tag(request)


@router.post("/untagStream")
def untag_stream(request: UntagStreamRequest) -> dict[str, Any]:
    return operations(router).untag(request)


@router.post("/listTagsForStream")
def list_tags_for_stream(request: ListTagsForStreamRequest) -> dict[str, Any]:
    return operations(router).list_tags(request)


@router.post("/TagResource")
def tag_resource(request: TagResourceRequest) -> dict[str, Any]:
    return operations(router).tag(request)


@router.post("/UntagResource")
def untag_resource(request: UntagResourceRequest) -> dict[str, Any]:
    return operations(router).untag(request)


@router.post("/ListTagsForResource")
def list_tags_for_resource(request: ListTagsForResourceRequest) -> dict[str, Any]:
    return operations(router).list_tags(request)
