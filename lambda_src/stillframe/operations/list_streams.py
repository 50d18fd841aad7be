"""ListStreams: stream records in name order, optionally by name prefix, paged by NextToken."""

from __future__ import annotations

from typing import Any

from stillframe.catalog.streams import StreamCatalog
from stillframe.domain.stream_requests import ListStreamsRequest
from stillframe.domain.token import TokenCodec
from stillframe.operations.paging import take_page


def list_streams(request: ListStreamsRequest, *, streams: StreamCatalog, tokens: TokenCodec) -> dict[str, Any]:
    """``{"StreamInfoList": [...], "NextToken"?: str}``; the cursor is the catalog's own (its record key)."""
    after = tokens.decode(request.next_token, request.binding()) if request.next_token else ""
    records = streams.list(begins_with=request.begins_with or "", start_after=after)
    page, token = take_page(
        ((streams.cursor(record), record.stream_info()) for record in records),
        request.max_results,
        lambda cursor: tokens.encode(request.binding(), cursor),
    )
    result: dict[str, Any] = {"StreamInfoList": page}
    if token is not None:
        result["NextToken"] = token
    return result
