"""ListFragments: the retained fragments of a timeline range, oldest first, paged by NextToken.

The listing's range travels in its NextToken (authenticated, bound to the stream), so a request carrying only
StreamName and NextToken continues the listing that issued it, as the service model allows (FragmentSelector is
required only without a NextToken; the AWS CLI sends exactly that with ``--no-paginate --next-token``). A request
that repeats a FragmentSelector must repeat the same one; MaxResults may change from page to page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from stillframe.catalog.fragments import FragmentIndex
from stillframe.catalog.keys import LAST_INDEXED_MS, FragmentRecord
from stillframe.catalog.streams import StreamCatalog
from stillframe.domain.clocks import timeline_of
from stillframe.domain.requests import ListFragmentsRequest
from stillframe.domain.token import FOREIGN, TokenCodec, for_stream
from stillframe.errors import InvalidArgumentError
from stillframe.operations.paging import take_page


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
    binding = for_stream(request.binding(), stream.arn)
    listing = _Listing.of(request)
    after = ""
    if request.next_token:
        listing, after = _Listing.resume(tokens.decode(request.next_token, binding), asked=listing, request=request)
    if listing.selector:
        start, end = listing.start_ms, listing.end_ms
    else:  # start at the retention cutoff: expired fragments are never walked
        start, end = stream.retention_cutoff(now_ms), LAST_INDEXED_MS
    scan = fragments.scan(
        stream.media_id, timeline_of(listing.selector), start, end, after_key=after, expected=request.max_results + 1
    )
    kept = ((key, record) for key, record in scan if stream.retains(record, now_ms=now_ms))
    page, cursor_token = take_page(kept, request.max_results, lambda key: tokens.encode(binding, listing.cursor(key)))
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


@dataclass(frozen=True)
class _Listing:
    """The range a listing walks (selector None: every retained fragment, in server time), as its tokens carry it."""

    selector: str | None
    start_ms: int
    end_ms: int

    @classmethod
    def of(cls, request: ListFragmentsRequest) -> _Listing:
        return cls(request.selector, request.start_ms, request.end_ms)

    def cursor(self, key: str) -> str:
        return json.dumps([self.selector, self.start_ms, self.end_ms, key], separators=(",", ":"))

    @classmethod
    def resume(cls, cursor: str, *, asked: _Listing, request: ListFragmentsRequest) -> tuple[_Listing, str]:
        """The listing a token continues and the key it stopped at; a repeated selector must be the same one."""
        selector, start_ms, end_ms, key = json.loads(cursor)  # authentic: only this module wrote it
        listing = cls(selector, start_ms, end_ms)
        if request.fragment_selector is not None and asked != listing:
            raise InvalidArgumentError(FOREIGN)
        return listing, key
