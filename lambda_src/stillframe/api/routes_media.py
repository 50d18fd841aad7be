"""Data-plane routes: GetImages, ListFragments (kinesis-video-archived-media) and PutMedia."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from stillframe.api.body import header, raw_body
from stillframe.domain.put_media_headers import PutMediaHeaders, headers_of
from stillframe.domain.refusals import parse
from stillframe.domain.requests import GetImagesRequest, ListFragmentsRequest
from stillframe.domain.token import for_stream
from stillframe.images.service import TIMELINE, retained, retention_cutoff
from stillframe.wiring import services

router = Router()
BUDGET_MARGIN_MS = 2500


@router.post("/getImages")
def get_images(request: GetImagesRequest) -> dict[str, Any]:
    from stillframe.images.service import get_images as run

    return run(request, services(), budget_s=_budget_s())


@router.post("/listFragments")
def list_fragments(request: ListFragmentsRequest) -> dict[str, Any]:
    svc = services()
    stream = svc.streams.find(request.stream.stream_name, request.stream.arn)
    binding = for_stream(request.binding(), stream.StreamARN)
    after = svc.tokens.decode(request.next_token, binding) if request.next_token else ""
    timeline = TIMELINE[request.selector] if request.selector else "server"
    now_ms = int(time.time() * 1000)
    # Without a selector, start at the retention cutoff (server time): expired fragments are never walked.
    start, end = (
        (request.start_ms, request.end_ms) if request.selector else (retention_cutoff(stream, now_ms), 10**13 - 1)
    )
    fragments: list[dict[str, Any]] = []
    last_key = ""
    scan = svc.fragments.scan(stream.media_id, timeline, start, end, after_key=after, expected=request.max_results + 1)
    for key, record in scan:
        if not retained(record, stream, now_ms=now_ms):
            continue
        if len(fragments) == request.max_results:
            return {"Fragments": fragments, "NextToken": svc.tokens.encode(binding, last_key)}
        fragments.append(
            {
                "FragmentNumber": record.number,
                "FragmentSizeInBytes": record.size,
                "ProducerTimestamp": record.producer_ms / 1000,
                "ServerTimestamp": record.server_ms / 1000,
                "FragmentLengthInMilliseconds": record.duration_ms,
            }
        )
        last_key = key
    return {"Fragments": fragments}


@router.post("/putMedia")
def put_media() -> Response[str]:
    from stillframe.ingest.put_media import PutMediaHeaders as Upload
    from stillframe.ingest.put_media import put_media as run

    event = router.current_event
    request = parse(PutMediaHeaders, headers_of(lambda name: header(event, name)))
    headers = Upload(request.stream, request.timecode_type, request.producer_start_ms)
    acks = run(raw_body(event), headers, services(), now_ms=int(time.time() * 1000))
    return Response[str](status_code=200, content_type="application/json", body=acks)


def _budget_s() -> float:
    """Time left for rendering: the Lambda deadline (or serve's) minus a margin to answer in time."""
    context = router.lambda_context
    remaining = context.get_remaining_time_in_millis() if context is not None else services().settings.time_budget_ms
    return max(1000, remaining - BUDGET_MARGIN_MS) / 1000
