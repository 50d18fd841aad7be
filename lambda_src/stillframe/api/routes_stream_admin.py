"""Stream-update routes (the kinesisvideo model): UpdateDataRetention, UpdateStream, the six tag operations.

Light, like ``routes_streams``: no media imports. Paths are the model's ``http.requestUri`` exactly (the
``*Resource`` operations are capitalised there).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from stillframe.catalog.stream_updates import StreamUpdates, stream_ref_for_resource, stream_ref_for_stream_tags
from stillframe.catalog.streams import StreamRecord
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
from stillframe.wiring import services

router = Router()


def _updates() -> StreamUpdates:
    svc = services()
    return StreamUpdates(svc.store, svc.streams)


@router.post("/updateDataRetention")
def update_data_retention(request: UpdateDataRetentionRequest) -> dict[str, Any]:
    _updates().update(
        request.stream,
        lambda r: replace(r, DataRetentionInHours=request.new_retention(r.DataRetentionInHours)),
        current_version=request.current_version,
    )
    return {}


@router.post("/updateStream")
def update_stream(request: UpdateStreamRequest) -> dict[str, Any]:
    def change(record: StreamRecord) -> StreamRecord:
        return replace(
            record,
            DeviceName=request.device_name if request.device_name is not None else record.DeviceName,
            MediaType=request.media_type if request.media_type is not None else record.MediaType,
        )

    _updates().update(request.stream, change, current_version=request.current_version)
    return {}


@router.post("/tagStream")
def tag_stream(request: TagStreamRequest) -> dict[str, Any]:
    _updates().tag(stream_ref_for_stream_tags(request.stream), request.tags)
    return {}


@router.post("/untagStream")
def untag_stream(request: UntagStreamRequest) -> dict[str, Any]:
    _updates().untag(stream_ref_for_stream_tags(request.stream), request.keys)
    return {}


@router.post("/listTagsForStream")
def list_tags_for_stream(request: ListTagsForStreamRequest) -> dict[str, Any]:
    return {"Tags": _updates().tags(stream_ref_for_stream_tags(request.stream))}


@router.post("/TagResource")
def tag_resource(request: TagResourceRequest) -> dict[str, Any]:
    _updates().tag(stream_ref_for_resource(request.stream), request.tags)
    return {}


@router.post("/UntagResource")
def untag_resource(request: UntagResourceRequest) -> dict[str, Any]:
    _updates().untag(stream_ref_for_resource(request.stream), request.keys)
    return {}


@router.post("/ListTagsForResource")
def list_tags_for_resource(request: ListTagsForResourceRequest) -> dict[str, Any]:
    return {"Tags": _updates().tags(stream_ref_for_resource(request.stream))}
