"""Playback routes: GetHLSStreamingSessionURL and GetDASHStreamingSessionURL (signed POSTs, as every operation),
and the GETs their URLs lead to (``domain.playback.PLAYBACK_PATHS``), which players send unsigned: the
SessionToken in the query string is their credential (``lambda_handler`` lets them past the keys guard; the
operation checks the token, and the key it was issued to). Playlists and manifests are text; segments are bytes,
sent base64 like every media answer."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from stillframe.api import keys_auth
from stillframe.api.body import base_url
from stillframe.api.context import caller, operations
from stillframe.domain.playback import PLAYBACK_PATHS
from stillframe.domain.playback_requests import GetDASHStreamingSessionURLRequest, GetHLSStreamingSessionURLRequest

router = Router()


@router.post("/getHLSStreamingSessionURL")
def get_hls_streaming_session_url(request: GetHLSStreamingSessionURLRequest) -> dict[str, Any]:
    return {"HLSStreamingSessionURL": _session_url(request)}


@router.post("/getDASHStreamingSessionURL")
def get_dash_streaming_session_url(request: GetDASHStreamingSessionURLRequest) -> dict[str, Any]:
    return {"DASHStreamingSessionURL": _session_url(request)}


def _session_url(request: GetHLSStreamingSessionURLRequest | GetDASHStreamingSessionURLRequest) -> str:
    ops = operations(router)
    key = caller(router)
    base = base_url(router.current_event, ops.settings.public_url)
    return ops.playback_session(request, base_url=base, key_id=key.access_key_id if key is not None else None)


def _playback_resource():
    event = router.current_event
    ops = operations(router)
    answer = ops.playback_resource(
        event.path,
        dict(event.query_string_parameters or {}),
        key_check=keys_auth.session_key_check(ops.settings),
    )
    body = answer.body
    if isinstance(body, str):
        return Response[str](status_code=200, content_type=answer.content_type, body=body)
    return Response[bytes](status_code=200, content_type=answer.content_type, body=body)


for _path in PLAYBACK_PATHS:
    router.get(_path)(_playback_resource)
