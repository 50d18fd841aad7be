"""ListFragments: the retained fragments of a timeline range, oldest first, paged by NextToken."""

from __future__ import annotations

from typing import Any

from stillframe.catalog.fragments import FragmentIndex
from stillframe.catalog.keys import LAST_INDEXED_MS, FragmentRecord
from stillframe.catalog.streams import StreamCatalog
from stillframe.domain.clocks import timeline_of
from stillframe.domain.requests import ListFragmentsRequest
from stillframe.domain.token import TokenCodec, for_stream
from stillframe.operations.paging import take_page
from stillframe.operations.retention import retained, retention_cutoff


def list_fragments(
    request: ListFragmentsRequest,
    *,
    streams: StreamCatalog,
    fragments: FragmentIndex,
    tokens: TokenCodec,
    now_ms: int,
) -> dict[str, Any]:
    """``{"Fragments": [...], "NextToken"?: str}``; without a selector, every retained fragment in server time."""
    stream = streams.find(request.stream.stream_name, request.stream.arn)
    binding = for_stream(request.binding(), stream.StreamARN)
    after = tokens.decode(request.next_token, binding) if request.next_token else ""
    if request.selector:
        start, end = request.start_ms, request.end_ms
    else:  # start at the retention cutoff: expired fragments are never walked
        start, end = retention_cutoff(stream, now_ms), LAST_INDEXED_MS
    scan = fragments.scan(
        stream.media_id, timeline_of(request.selector), start, end, after_key=after, expected=request.max_results + 1
    )
    kept = ((key, record) for key, record in scan if retained(record, stream, now_ms=now_ms))
    page, cursor_token = take_page(kept, request.max_results, lambda key: tokens.encode(binding, key))
    result: dict[str, Any] = {"Fragments": [_fragment(record) for record in page]}
    if cursor_token is not None:
        result["NextToken"] = cursor_token
    return result


def _fragment(record: FragmentRecord) -> dict[str, Any]:
    return {
        "FragmentNumber": record.number,
        "FragmentSizeInBytes": record.size,
        "ProducerTimestamp": record.producer_ms / 1000,
        "ServerTimestamp": record.server_ms / 1000,
        "FragmentLengthInMilliseconds": record.duration_ms,
    }
