"""CreateStream, DescribeStream, DeleteStream and GetDataEndpoint: thin calls into the stream catalog."""

from __future__ import annotations

from typing import Any

from stillframe.catalog.streams import StreamCatalog
from stillframe.domain.stream_requests import (
    CreateStreamRequest,
    DeleteStreamRequest,
    DescribeStreamRequest,
    GetDataEndpointRequest,
)


def create_stream(request: CreateStreamRequest, *, streams: StreamCatalog) -> dict[str, Any]:
    """``{"StreamARN": ...}`` of the new ACTIVE stream."""
    record = streams.create(
        request.stream_name,
        retention_hours=request.data_retention_hours,
        device_name=request.device_name,
        media_type=request.media_type,
        kms_key_id=request.kms_key_id,
        tags=request.tags,
    )
    return {"StreamARN": record.arn}


def describe_stream(request: DescribeStreamRequest, *, streams: StreamCatalog) -> dict[str, Any]:
    """``{"StreamInfo": ...}``; a stream being deleted is still described (Status DELETING)."""
    record = streams.find(request.stream.stream_name, request.stream.arn, include_deleting=True)
    return {"StreamInfo": record.stream_info()}


def delete_stream(request: DeleteStreamRequest, *, streams: StreamCatalog) -> dict[str, Any]:
    """Delete the stream (its name is free at once; media goes in the background of the catalog's budget)."""
    streams.delete(request.stream_arn, request.current_version)
    return {}


def get_data_endpoint(request: GetDataEndpointRequest, *, streams: StreamCatalog, endpoint: str) -> dict[str, Any]:
    """``{"DataEndpoint": endpoint}`` for an existing stream: every APIName is served at this same endpoint."""
    streams.find(request.stream.stream_name, request.stream.arn)
    return {"DataEndpoint": endpoint}
