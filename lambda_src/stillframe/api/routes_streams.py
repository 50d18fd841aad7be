"""Control-plane routes (the kinesisvideo model): light, no media imports."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from stillframe.api.body import base_url
from stillframe.catalog import keys
from stillframe.domain.stream_requests import (
    CreateStreamRequest,
    DeleteStreamRequest,
    DescribeStreamRequest,
    GetDataEndpointRequest,
    ListStreamsRequest,
)
from stillframe.wiring import services

router = Router()


@router.post("/createStream")
def create_stream(request: CreateStreamRequest) -> dict[str, Any]:
    record = services().streams.create(
        request.stream_name,
        retention_hours=request.data_retention_hours,
        device_name=request.device_name,
        media_type=request.media_type,
        kms_key_id=request.kms_key_id,
        tags=request.tags,
    )
    return {"StreamARN": record.StreamARN}


@router.post("/describeStream")
def describe_stream(request: DescribeStreamRequest) -> dict[str, Any]:
    record = services().streams.find(request.stream.stream_name, request.stream.arn, include_deleting=True)
    return {"StreamInfo": record.stream_info()}


@router.post("/listStreams")
def list_streams(request: ListStreamsRequest) -> dict[str, Any]:
    svc = services()
    after = svc.tokens.decode(request.next_token, request.binding()) if request.next_token else ""
    infos: list[dict[str, object]] = []
    last_key = ""
    for record in svc.streams.list(begins_with=request.begins_with or "", start_after=after):
        if len(infos) == request.max_results:
            return {"StreamInfoList": infos, "NextToken": svc.tokens.encode(request.binding(), last_key)}
        infos.append(record.stream_info())
        last_key = keys.stream_record_key(record.StreamName)
    return {"StreamInfoList": infos}


@router.post("/deleteStream")
def delete_stream(request: DeleteStreamRequest) -> dict[str, Any]:
    services().streams.delete(request.stream_arn, request.current_version)
    return {}


@router.post("/getDataEndpoint")
def get_data_endpoint(request: GetDataEndpointRequest) -> dict[str, Any]:
    svc = services()
    svc.streams.find(request.stream.stream_name, request.stream.arn)
    return {"DataEndpoint": base_url(router.current_event, svc.settings.public_url)}
