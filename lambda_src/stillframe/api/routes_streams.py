"""Control-plane routes (the kinesisvideo model): light, no media imports."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from stillframe.api.body import base_url, json_body
from stillframe.catalog import keys
from stillframe.domain import stream_requests
from stillframe.wiring import services

router = Router()


@router.post("/createStream")
def create_stream() -> dict[str, Any]:
    request = stream_requests.parse_create_stream(json_body(router.current_event))
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
def describe_stream() -> dict[str, Any]:
    request = stream_requests.parse_describe_stream(json_body(router.current_event))
    record = services().streams.find(request.stream.stream_name, request.stream.arn, include_deleting=True)
    return {"StreamInfo": record.stream_info()}


@router.post("/listStreams")
def list_streams() -> dict[str, Any]:
    request = stream_requests.parse_list_streams(json_body(router.current_event))
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
def delete_stream() -> dict[str, Any]:
    request = stream_requests.parse_delete_stream(json_body(router.current_event))
    services().streams.delete(request.stream_arn, request.current_version)
    return {}


@router.post("/getDataEndpoint")
def get_data_endpoint() -> dict[str, Any]:
    request = stream_requests.parse_get_data_endpoint(json_body(router.current_event))
    svc = services()
    svc.streams.find(request.stream.stream_name, request.stream.arn)
    return {"DataEndpoint": base_url(router.current_event, svc.settings.public_url)}
