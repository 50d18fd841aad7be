"""GetImages: resolve the stream, page the sample timeline, render the page, issue the NextToken."""

from __future__ import annotations

import logging
import time
from typing import Any

from stillframe.catalog.keys import FragmentRecord
from stillframe.catalog.streams import StreamRecord
from stillframe.domain.requests import GetImagesRequest
from stillframe.domain.timeline import has_more, page_samples
from stillframe.domain.token import for_stream
from stillframe.errors import InvalidArgumentError, NoDataRetentionError
from stillframe.images.engine import RenderSpec, render_page
from stillframe.images.plan import plan_page
from stillframe.observability import metrics
from stillframe.wiring import Services

logger = logging.getLogger(__name__)

TIMELINE = {"SERVER_TIMESTAMP": "server", "PRODUCER_TIMESTAMP": "producer"}


def get_images(request: GetImagesRequest, services: Services, *, budget_s: float) -> dict[str, Any]:
    """One page of GetImages: ``{"Images": [...], "NextToken"?: str}``."""
    deadline = time.monotonic() + budget_s  # the budget covers the whole request, lookups included
    stream = services.streams.find(request.stream.stream_name, request.stream.arn)
    if stream.DataRetentionInHours == 0:
        raise NoDataRetentionError(f"The stream {stream.StreamName} has no data retention (DataRetentionInHours is 0).")
    binding = for_stream(request.binding(), stream.StreamARN)
    offset = _offset(request, binding, services)
    samples = page_samples(request.start_ms, request.end_ms, request.interval_ms, offset, request.page_size)
    if not samples:
        raise InvalidArgumentError("NextToken does not point inside this request's time range.")
    timeline = TIMELINE[request.selector]
    candidates = [
        record
        for record in services.fragments.covering_candidates(stream.media_id, timeline, samples[0], samples[-1])
        if retained(record, stream, now_ms=int(time.time() * 1000))
    ]
    plan = plan_page(samples, candidates, timeline)
    spec = RenderSpec(request.image_format, request.quality, request.width, request.height)
    outcomes, stats = render_page(plan, services.fragments, spec, deadline=deadline)
    result: dict[str, Any] = {"Images": [outcome.to_json() for outcome in outcomes]}
    next_offset = offset + len(outcomes)
    if has_more(request.start_ms, request.end_ms, request.interval_ms, next_offset):
        result["NextToken"] = services.tokens.encode(binding, str(next_offset))
    metrics.add_metric(name="ImagesReturned", unit="Count", value=stats.images)
    metrics.add_metric(name="FramesDecoded", unit="Count", value=stats.frames_decoded)
    logger.info(
        "page served",
        extra={
            "stream": stream.StreamName,
            "images": stats.images,
            "fragments": stats.fragments,
            "frames_decoded": stats.frames_decoded,
            "stopped_early": stats.stopped_early,
        },
    )
    return result


def retained(record: FragmentRecord, stream: StreamRecord, *, now_ms: int) -> bool:
    """A fragment past its stream's retention is gone, even before the lifecycle rule deletes it."""
    return record.server_ms + stream.DataRetentionInHours * 3_600_000 >= now_ms


def retention_cutoff(stream: StreamRecord, now_ms: int) -> int:
    """The earliest server time a retained fragment can start at."""
    return max(0, now_ms - stream.DataRetentionInHours * 3_600_000)


def _offset(request: GetImagesRequest, binding: bytes, services: Services) -> int:
    if request.next_token is None:
        return 0
    cursor = services.tokens.decode(request.next_token, binding)
    if not cursor.isdigit():
        raise InvalidArgumentError("NextToken is malformed.")
    return int(cursor)
