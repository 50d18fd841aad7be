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
from stillframe.errors import InvalidArgumentError


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


PUT_MEDIA = "PUT_MEDIA"


def put_media_endpoint(configured: str, own: str, streams_here: bool) -> str:
    """Where producers stream: the configured session host, else this service when it can hold a session.

    A KVS producer asks GetDataEndpoint for PUT_MEDIA and then keeps one PutMedia open, reading acks while it
    sends. Behind API Gateway and Lambda a request is buffered whole, so such a producer would wait for acks that
    never come; it is told so here instead, before it starts.
    """
    if configured:
        return configured
    if streams_here:
        return own
    raise InvalidArgumentError(
        "This deployment cannot hold a streaming PutMedia session (API Gateway and Lambda buffer each request "
        "whole, so acks cannot stream back to a producer). Run `stillframe serve --bucket <the stack's bucket>` "
        "on a host the producers reach, and deploy with the putMediaEndpoint context set to its URL; "
        "`stillframe put-media` can still upload here."
    )


def get_data_endpoint(request: GetDataEndpointRequest, *, streams: StreamCatalog, endpoint: str) -> dict[str, Any]:
    """``{"DataEndpoint": endpoint}`` for an existing stream: every APIName is served at this same endpoint."""
    streams.find(request.stream.stream_name, request.stream.arn)
    return {"DataEndpoint": endpoint}
