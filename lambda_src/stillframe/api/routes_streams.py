"""Control-plane routes (the kinesisvideo model): light, no media imports. Each is parse -> one call -> shape."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from stillframe.api.body import base_url
from stillframe.api.context import operations, visible_to_caller
from stillframe.domain.stream_requests import (
    CreateStreamRequest,
    DeleteStreamRequest,
    DescribeStreamRequest,
    GetDataEndpointRequest,
    ListStreamsRequest,
)

router = Router()


@router.post("/createStream")
def create_stream(request: CreateStreamRequest) -> dict[str, Any]:
    return operations(router).create_stream(request)


@router.post("/describeStream")
def describe_stream(request: DescribeStreamRequest) -> dict[str, Any]:
    return operations(router).describe_stream(request)


@router.post("/listStreams")
def list_streams(request: ListStreamsRequest) -> dict[str, Any]:
    return operations(router).list_streams(request, visible=visible_to_caller(router))


@router.post("/deleteStream")
def delete_stream(request: DeleteStreamRequest) -> dict[str, Any]:
    return operations(router).delete_stream(request)


@router.post("/getDataEndpoint")
def get_data_endpoint(request: GetDataEndpointRequest) -> dict[str, Any]:
    return operations(router).get_data_endpoint(request, reached_at=base_url(router.current_event))
