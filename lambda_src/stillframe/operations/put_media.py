"""PutMedia over HTTP: headers in, media split into fragments, all-or-nothing parse, acks out."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from stillframe.catalog.fragments import FragmentIndex
from stillframe.catalog.keys import LAST_INDEXED_MS
from stillframe.catalog.streams import StreamCatalog
from stillframe.domain.put_media_headers import DISPLAY, PutMediaHeaders
from stillframe.errors import InvalidArgumentError, MediaError
from stillframe.ingest.service import TARGET_FRAGMENT_MS, UploadClock, require_retention, store_fragments

if TYPE_CHECKING:
    from stillframe.delivery.worker import Deliveries
    from stillframe.media.display import Display
    from stillframe.media.split import MediaFragment

LAST_INDEXED_TIME = "2286-11-20T17:46:40Z"


def put_media(
    body: bytes,
    headers: PutMediaHeaders,
    *,
    streams: StreamCatalog,
    fragments: FragmentIndex,
    deliveries: Deliveries | None,
    now_ms: int,
) -> str:
    """Store the body's fragments; returns the ack stream (one JSON object per line).

    ``deliveries`` gets the image-delivery job of each tagged fragment (none: no jobs are written).
    """
    from stillframe.media.split import iter_fragments

    stream = streams.find(headers.stream.stream_name, headers.stream.arn)
    require_retention(stream)
    if not body:
        raise InvalidArgumentError("The PutMedia body is empty; send MKV, MP4, MPEG-TS or WebM media.")
    display = _stated_display(headers)
    try:
        # Parse everything before storing anything: unparseable media stores nothing.
        pieces = list(iter_fragments(body, target_ms=TARGET_FRAGMENT_MS, display=display, window=headers.window))
    except MediaError as exc:
        raise InvalidArgumentError(f"The media cannot be parsed: {exc}") from exc
    clock = UploadClock(
        received_ms=now_ms,
        producer_start_ms=headers.producer_start_ms if headers.producer_start_ms is not None else now_ms,
        timecode_type=headers.timecode_type,
    )
    _check_indexable(pieces, clock)
    acks = store_fragments(stream, pieces, clock, fragments, deliveries)
    return "".join(json.dumps(ack.to_json()) + "\n" for ack in acks)


def _stated_display(headers: PutMediaHeaders) -> Display | None:
    """The display transform the uploader states (a put-media chunk), or None; 400 naming the header if malformed."""
    from stillframe.media.display import from_statement

    if headers.display is None:
        return None
    try:
        return from_statement(headers.display)
    except ValueError as exc:
        raise InvalidArgumentError(f"The {DISPLAY} header is not valid: {exc}") from exc


def _check_indexable(fragments: list[MediaFragment], clock: UploadClock) -> None:
    """Refuse an upload whose producer times the fragment index cannot sort (13 digits of ms: before 2286-11-20).

    A later time would be stored but never found, and past year 9999 it would break clients' timestamp parsing.
    """
    for fragment in fragments:
        start = clock.producer_ms(fragment)
        if start + fragment.duration_ms > LAST_INDEXED_MS:
            raise InvalidArgumentError(
                f"Producer timestamps must be before {LAST_INDEXED_TIME}; this upload reaches "
                f"{start + fragment.duration_ms} ms after the epoch."
            )
