"""Data-plane routes: GetImages, ListFragments (kinesis-video-archived-media) and PutMedia."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from stillframe.api.body import header, raw_body
from stillframe.api.context import operations
from stillframe.domain.put_media_headers import PutMediaHeaders, headers_of
from stillframe.domain.refusals import parse
from stillframe.domain.requests import GetImagesRequest, ListFragmentsRequest
from stillframe.wiring import services

router = Router()
BUDGET_MARGIN_MS = 2500


@router.post("/getImages")
def get_images(request: GetImagesRequest) -> dict[str, Any]:
    from stillframe.images.service import get_images as run

    return run(request, services(), budget_s=_budget_s())


@router.post("/listFragments")
def list_fragments(request: ListFragmentsRequest) -> dict[str, Any]:
    return operations(router).list_fragments(request)


@router.post("/putMedia")
def put_media() -> Response[str]:
    from stillframe.ingest.put_media import put_media as run

    event = router.current_event
    headers = parse(PutMediaHeaders, headers_of(lambda name: header(event, name)))
    acks = run(raw_body(event), headers, services(), now_ms=int(time.time() * 1000))
    return Response[str](status_code=200, content_type="application/json", body=acks)


def _budget_s() -> float:
    """Time left for rendering: the Lambda deadline (or serve's) minus a margin to answer in time."""
    context = router.lambda_context
    remaining = context.get_remaining_time_in_millis() if context is not None else services().settings.time_budget_ms
    return max(1000, remaining - BUDGET_MARGIN_MS) / 1000
