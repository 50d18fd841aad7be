"""GetClip: an MP4 of a timeline range, remuxed from the stored fragments that cover it (``media.clip_mux``).

The clip plays exactly the range (docs/api-rules.md, "GetClip"): the fragment on screen at StartTimestamp is used
too, and the edit list hides what lies before. A clip is answered whole or refused, naming the limit: at most
``MAX_CLIP_FRAGMENTS`` fragments (KVS's 200) and ``max_bytes`` of MP4 (KVS's 100 MB; less where the transport
cannot carry it, Settings.max_media_bytes).
"""

from __future__ import annotations

import logging

from stillframe.catalog.fragments import FragmentIndex
from stillframe.catalog.keys import FragmentRecord
from stillframe.catalog.streams import StreamCatalog
from stillframe.domain.clocks import timeline_of
from stillframe.domain.media_requests import GetClipRequest
from stillframe.errors import (
    InvalidArgumentError,
    InvalidCodecPrivateDataError,
    InvalidMediaFrameError,
    MediaError,
    MissingCodecPrivateDataError,
    ResourceNotFoundError,
    UnsupportedStreamMediaTypeError,
)

logger = logging.getLogger(__name__)

MAX_CLIP_FRAGMENTS = 200  # GetClip's Payload: "the first 100 MB or the first 200 fragments"
CONTENT_TYPE = "video/mp4"
SPLIT_HINT = "ask for a shorter range (`stillframe get-clip` splits a long range into clips and joins them)"


def get_clip(
    request: GetClipRequest,
    *,
    streams: StreamCatalog,
    fragments: FragmentIndex,
    now_ms: int,
    max_bytes: int,
) -> bytes:
    """The MP4 bytes of the requested range."""
    stream = streams.find(request.stream.stream_name, request.stream.arn)
    stream.require_retention("it keeps no media to make a clip of.")
    timeline = timeline_of(request.selector)
    start, end = request.start_ms, request.end_ms
    candidates = fragments.covering_candidates(stream.media_id, timeline, start, end)
    chosen = _one_per_time(
        [
            record
            for record in candidates
            if stream.retains(record, now_ms=now_ms) and record.start(timeline) + record.duration_ms > start
        ],
        timeline,
    )
    if not chosen:
        raise ResourceNotFoundError(f"No fragments found in stream {stream.name} for the requested time range")
    _check_limits(chosen, max_bytes)
    clip = _mux([(r.number, fragments.blob(r), r.start(timeline)) for r in chosen], start, end)
    if len(clip) > max_bytes:
        raise InvalidArgumentError(
            f"The clip would be {len(clip):,} bytes, over the {max_bytes:,} bytes this endpoint answers with: "
            + SPLIT_HINT
        )
    logger.info("clip served", extra={"stream": stream.name, "fragments": len(chosen), "bytes": len(clip)})
    return clip


def _one_per_time(records: list[FragmentRecord], timeline: str) -> list[FragmentRecord]:
    """In start order, leaving out a fragment that starts inside one already taken (a re-upload of the same time)."""
    taken: list[FragmentRecord] = []
    for record in sorted(records, key=lambda r: (r.start(timeline), len(r.number), r.number)):
        if taken and record.start(timeline) < taken[-1].start(timeline) + taken[-1].duration_ms:
            continue
        taken.append(record)
    return taken


def _check_limits(chosen: list[FragmentRecord], max_bytes: int) -> None:
    if len(chosen) > MAX_CLIP_FRAGMENTS:
        raise InvalidArgumentError(
            f"The range holds {len(chosen)} fragments, over the {MAX_CLIP_FRAGMENTS} a clip may hold: " + SPLIT_HINT
        )
    # The fragments wholly inside the range are copied whole: over the limit already, refuse before reading them.
    inner = sum(record.size for record in chosen[1:-1])
    if inner > max_bytes:
        raise InvalidArgumentError(
            f"The range holds over {inner:,} bytes of media, over the {max_bytes:,} bytes this endpoint answers "
            "with: " + SPLIT_HINT
        )


def _mux(sources: list[tuple[str, bytes, int]], start: int, end: int) -> bytes:
    from stillframe.media import clip_mux  # PyAV: loaded by the first clip, not at cold start

    try:
        return clip_mux.mux_clip([clip_mux.ClipSource(*source) for source in sources], start, end)
    except clip_mux.MissingCodecPrivateData as exc:
        raise MissingCodecPrivateDataError(str(exc)) from exc
    except clip_mux.CodecPrivateDataChanged as exc:
        raise InvalidCodecPrivateDataError(str(exc)) from exc
    except clip_mux.NoFramesInRange as exc:
        raise ResourceNotFoundError(f"No frames found for the requested time range: {exc}") from exc
    except clip_mux.UnsupportedTrack as exc:
        raise UnsupportedStreamMediaTypeError(str(exc)) from exc
    except MediaError as exc:
        raise InvalidMediaFrameError(f"The clip's media cannot be read: {exc}") from exc
