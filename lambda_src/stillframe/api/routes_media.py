"""Data-plane routes: GetImages, ListFragments, GetClip, GetMediaForFragmentList (kinesis-video-archived-media),
GetMedia and PutMedia (kinesis-video-media). Media answers are bytes: the resolver sends them base64 with
``isBase64Encoded`` (API Gateway decodes them for its binary media types; serve's ``decode_response`` does the same).
On serve, GetMedia streams instead: its route writes through the context's ``media_writer``."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from stillframe.api.body import headers_request, raw_body
from stillframe.api.context import operations
from stillframe.domain.media_requests import GetClipRequest, GetMediaForFragmentListRequest, GetMediaRequest
from stillframe.domain.put_media_headers import PutMediaHeaders
from stillframe.domain.requests import GetImagesRequest, ListFragmentsRequest
from stillframe.operations.get_clip import CONTENT_TYPE as CLIP_CONTENT_TYPE
from stillframe.operations.get_media import CONTENT_TYPE as MEDIA_CONTENT_TYPE
from stillframe.operations.get_media_for_fragment_list import CONTENT_TYPE as FRAGMENTS_CONTENT_TYPE

router = Router()


@router.post("/getImages")
def get_images(request: GetImagesRequest) -> dict[str, Any]:
    context = router.lambda_context  # Lambda's deadline (serve's too); none: the configured budget
    remaining_ms = context.get_remaining_time_in_millis() if context is not None else None
    return operations(router).get_images(request, remaining_ms=remaining_ms)


@router.post("/listFragments")
def list_fragments(request: ListFragmentsRequest) -> dict[str, Any]:
    return operations(router).list_fragments(request)


# Media routes carry no return annotation: the resolver would validate and serialize the annotated body as JSON
# (bytes as UTF-8 text); unannotated, it passes the bytes through and sends them base64.
@router.post("/getClip")
def get_clip(request: GetClipRequest):
    clip = operations(router).get_clip(request)
    return Response[bytes](status_code=200, content_type=CLIP_CONTENT_TYPE, body=clip)


@router.post("/getMediaForFragmentList")
def get_media_for_fragment_list(request: GetMediaForFragmentListRequest):
    media = operations(router).get_media_for_fragment_list(request)
    return Response[bytes](status_code=200, content_type=FRAGMENTS_CONTENT_TYPE, body=media)


@router.post("/getMedia")
def get_media(request: GetMediaRequest):
    context = router.lambda_context
    writer = getattr(context, "media_writer", None)  # serve: the answer streams through it as fragments come
    remaining_ms = context.get_remaining_time_in_millis() if context is not None and writer is None else None
    media = operations(router).get_media(request, writer, remaining_ms=remaining_ms)
    return Response[bytes](status_code=200, content_type=MEDIA_CONTENT_TYPE, body=media)


@router.post("/putMedia")
def put_media() -> Response[str]:
    event = router.current_event
    headers = headers_request(event, PutMediaHeaders)
    session = getattr(router.lambda_context, "media_session", None)
    if session is not None:  # serve, a producer's streaming session: the acks went out as they were made
        operations(router).put_media_session(session, headers)
        return Response[str](status_code=200, content_type="application/json", body="")
    acks = operations(router).put_media(raw_body(event), headers)
    return Response[str](status_code=200, content_type="application/json", body=acks)
