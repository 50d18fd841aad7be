"""ListStreams: stream records in name order, optionally by name prefix, paged by NextToken."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from stillframe.catalog.streams import StreamCatalog
from stillframe.domain.stream_requests import ListStreamsRequest
from stillframe.domain.token import TokenCodec
from stillframe.operations.paging import take_page

# A page stops early, with a NextToken, after this long: a cold listing of many streams (records not yet in the
# summaries cache) must still answer within the function's timeout.
LIST_BUDGET_S = 10.0


def list_streams(
    request: ListStreamsRequest,
    *,
    streams: StreamCatalog,
    tokens: TokenCodec,
    visible: Callable[[str], bool] | None = None,
    budget_s: float = LIST_BUDGET_S,
) -> dict[str, Any]:
    """``{"StreamInfoList": [...], "NextToken"?: str}``; the cursor is the catalog's own (its record key).

    ``visible``: the stream names the caller may see (a stream-limited key's); the others are skipped inside the
    paging, so a page is as full as MaxResults allows and its NextToken continues after the last record read.
    """
    deadline = time.monotonic() + budget_s
    after = tokens.decode(request.next_token, request.binding()) if request.next_token else ""
    # Closed here, not whenever it is collected: the listing's end saves the summaries cache.
    with contextlib.closing(streams.list(begins_with=request.begins_with or "", start_after=after)) as records:
        page, token = take_page(
            (
                (streams.cursor(record), record.stream_info())
                for record in records
                if visible is None or visible(record.name)
            ),
            request.max_results,
            lambda cursor: tokens.encode(request.binding(), cursor),
            out_of_time=lambda: time.monotonic() > deadline,
        )
    result: dict[str, Any] = {"StreamInfoList": page}
    if token is not None:
        result["NextToken"] = token
    return result
