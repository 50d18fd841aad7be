"""GetImages: resolve the stream, page the sample timeline, render the page, issue the NextToken.

The time budget is the request's: ``budget_s`` turns the caller's remaining time (Lambda's deadline, or serve's
configured budget) into rendering time with a margin to answer in, and the deadline starts before the lookups.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from stillframe.catalog.fragments import FragmentIndex
from stillframe.catalog.streams import StreamCatalog
from stillframe.domain.clocks import timeline_of
from stillframe.domain.requests import GetImagesRequest
from stillframe.domain.timeline import has_more, page_samples
from stillframe.domain.token import TokenCodec, for_stream
from stillframe.errors import InvalidArgumentError
from stillframe.images.engine import RenderSpec, render_page
from stillframe.images.plan import plan_page
from stillframe.observability import metrics

logger = logging.getLogger(__name__)

BUDGET_MARGIN_MS = 2500
MIN_BUDGET_MS = 1000


def budget_s(remaining_ms: int) -> float:
    """Seconds left for the page: the caller's remaining time minus a margin to answer in, at least one second."""
    return max(MIN_BUDGET_MS, remaining_ms - BUDGET_MARGIN_MS) / 1000


def get_images(
    request: GetImagesRequest,
    *,
    streams: StreamCatalog,
    fragments: FragmentIndex,
    tokens: TokenCodec,
    now_ms: int,
    budget_s: float,
) -> dict[str, Any]:
    """One page of GetImages: ``{"Images": [...], "NextToken"?: str}``; rendering stops at ``budget_s``."""
    deadline = time.monotonic() + budget_s  # the budget covers the whole request, lookups included
    stream = streams.find(request.stream.stream_name, request.stream.arn)
    stream.require_retention("GetImages reads stored media.")
    binding = for_stream(request.binding(), stream.arn)
    offset = _offset(request, binding, tokens)
    samples = page_samples(request.start_ms, request.end_ms, request.interval_ms, offset, request.page_size)
    if not samples:
        raise InvalidArgumentError("NextToken does not point inside this request's time range.")
    timeline = timeline_of(request.selector)
    candidates = [
        record
        for record in fragments.covering_candidates(stream.media_id, timeline, samples[0], samples[-1])
        if stream.retains(record, now_ms=now_ms)
    ]
    # The next page's samples, so a decoder left mid-GOP can be kept for it (a paginator asks for it next).
    following = page_samples(
        request.start_ms, request.end_ms, request.interval_ms, offset + len(samples), request.page_size
    )
    plan = plan_page(samples, candidates, timeline, following)
    spec = RenderSpec(request.image_format, request.quality, request.width, request.height)
    outcomes, stats = render_page(plan, fragments, spec, deadline=deadline)
    result: dict[str, Any] = {"Images": [outcome.to_json() for outcome in outcomes]}
    next_offset = offset + len(outcomes)
    if has_more(request.start_ms, request.end_ms, request.interval_ms, next_offset):
        result["NextToken"] = tokens.encode(binding, str(next_offset))
    metrics.add_metric(name="ImagesReturned", unit="Count", value=stats.images)
    metrics.add_metric(name="FramesDecoded", unit="Count", value=stats.frames_decoded)
    logger.info(
        "page served",
        extra={
            "stream": stream.name,
            "images": stats.images,
            "fragments": stats.fragments,
            "frames_decoded": stats.frames_decoded,
            "stopped_early": stats.stopped_early,
        },
    )
    return result


def _offset(request: GetImagesRequest, binding: bytes, tokens: TokenCodec) -> int:
    if request.next_token is None:
        return 0
    cursor = tokens.decode(request.next_token, binding)
    if not cursor.isdigit():
        raise InvalidArgumentError("NextToken is malformed.")
    return int(cursor)
