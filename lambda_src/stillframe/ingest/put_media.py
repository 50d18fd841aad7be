"""PutMedia over HTTP: headers in, media split into fragments, all-or-nothing parse, acks out."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stillframe.catalog.keys import STAMP_DIGITS
from stillframe.domain.params import parse_timestamp
from stillframe.domain.requests import StreamRef, parse_stream_ref
from stillframe.errors import InvalidArgumentError, MediaError
from stillframe.ingest.service import ABSOLUTE, RELATIVE, UploadClock, require_retention, store_fragments
from stillframe.wiring import Services

if TYPE_CHECKING:
    from stillframe.media.split import MediaFragment

TARGET_FRAGMENT_MS = 2000
LAST_INDEXED_MS = 10**STAMP_DIGITS - 1  # the index's fixed-width times; later ones would sort before 1970's
LAST_INDEXED_TIME = "2286-11-20T17:46:40Z"


@dataclass(frozen=True)
class PutMediaHeaders:
    stream: StreamRef
    timecode_type: str
    producer_start_ms: int | None


def parse_headers(header: Callable[[str], str | None]) -> PutMediaHeaders:
    """Validate the KVS PutMedia headers (names as the Java producer SDK sends them)."""
    stream = parse_stream_ref(
        {
            key: value
            for key, value in (("StreamName", header("x-amzn-stream-name")), ("StreamARN", header("x-amzn-stream-arn")))
            if value is not None
        }
    )
    timecode_type = (header("x-amzn-fragment-timecode-type") or RELATIVE).upper()
    if timecode_type not in (RELATIVE, ABSOLUTE):
        raise InvalidArgumentError("x-amzn-fragment-timecode-type must be ABSOLUTE or RELATIVE.")
    raw_start = header("x-amzn-producer-start-timestamp")
    start = None
    if raw_start is not None:
        value: object = raw_start
        with contextlib.suppress(ValueError):  # not a number: maybe ISO-8601; parse_timestamp says what is wrong
            value = float(raw_start)
        start = parse_timestamp(value, "x-amzn-producer-start-timestamp")
    return PutMediaHeaders(stream, timecode_type, start)


def put_media(body: bytes, headers: PutMediaHeaders, services: Services, *, now_ms: int) -> str:
    """Store the body's fragments; returns the ack stream (one JSON object per line)."""
    from stillframe.media.split import iter_fragments

    stream = services.streams.find(headers.stream.stream_name, headers.stream.arn)
    require_retention(stream)
    if not body:
        raise InvalidArgumentError("The PutMedia body is empty; send MKV, MP4, MPEG-TS or WebM media.")
    try:
        # Parse everything before storing anything: unparseable media stores nothing.
        fragments = list(iter_fragments(body, target_ms=TARGET_FRAGMENT_MS))
    except MediaError as exc:
        raise InvalidArgumentError(f"The media cannot be parsed: {exc}") from exc
    clock = UploadClock(
        received_ms=now_ms,
        producer_start_ms=headers.producer_start_ms if headers.producer_start_ms is not None else now_ms,
        timecode_type=headers.timecode_type,
    )
    _check_indexable(fragments, clock)
    acks = store_fragments(stream, fragments, clock, services.fragments, services.deliveries)
    return "".join(json.dumps(ack) + "\n" for ack in acks)


def _check_indexable(fragments: list[MediaFragment], clock: UploadClock) -> None:
    """Refuse an upload whose producer times the fragment index cannot sort (13 digits of ms: before 2286-11-20).

    A later time would be stored but never found, and past year 9999 it would break clients' timestamp parsing.
    """
    for fragment in fragments:
        start = fragment.pts_ms if clock.timecode_type == ABSOLUTE else clock.producer_start_ms + fragment.offset_ms
        if start + fragment.duration_ms > LAST_INDEXED_MS:
            raise InvalidArgumentError(
                f"Producer timestamps must be before {LAST_INDEXED_TIME}; this upload reaches "
                f"{start + fragment.duration_ms} ms after the epoch."
            )
