"""GetHLSStreamingSessionURL / GetDASHStreamingSessionURL: a session checked as KVS checks it up front (the stream
keeps media, the range holds fragments, LIVE has fragments from the last 30 seconds, the first fragment's codecs can
be played), answered as a URL whose token holds the session (``domain.playback``); ``playback`` answers what the URL
leads to.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from stillframe.catalog.fragments import FragmentIndex
from stillframe.catalog.keys import FragmentRecord
from stillframe.catalog.stream_record import StreamRecord
from stillframe.catalog.streams import StreamCatalog
from stillframe.domain.clocks import Timeline, timeline_of
from stillframe.domain.playback import DASH_MANIFEST, DASH_PREFIX, HLS_MASTER, HLS_PREFIX, PlaybackSession
from stillframe.domain.playback_requests import GetDASHStreamingSessionURLRequest, PlaybackSessionRequest
from stillframe.domain.token import TokenCodec
from stillframe.errors import (
    InvalidArgumentError,
    MissingCodecPrivateDataError,
    ResourceNotFoundError,
    UnsupportedStreamMediaTypeError,
)
from stillframe.operations import playback_window
from stillframe.operations.playback import tracks_of

logger = logging.getLogger(__name__)

# Codecs a session serves: KVS's H.264/H.265 (+ AAC) in both containers; in fMP4 also what browsers play from it.
TS_CODECS = ("avc1", "hvc1", "hev1", "mp4a")
FMP4_CODECS = (*TS_CODECS, "opus", "vp09", "av01")


def create_session(
    request: PlaybackSessionRequest,
    *,
    streams: StreamCatalog,
    fragments: FragmentIndex,
    tokens: TokenCodec,
    now_ms: int,
    base_url: str,
    key_id: str | None,
) -> str:
    """The session URL (the HLS master playlist's, or the DASH manifest's)."""
    stream = streams.find(request.stream.stream_name, request.stream.arn)
    stream.require_retention("it keeps no media to play.")
    timeline = timeline_of(request.selector)
    ends_ahead = request.end_ms is not None and request.end_ms > now_ms
    if request.mode != "LIVE" and timeline == Timeline.SERVER and ends_ahead:
        raise InvalidArgumentError(
            f"{request.SELECTOR_FIELD}.TimestampRange.EndTimestamp must be in the past when "
            "FragmentSelectorType is SERVER_TIMESTAMP"
        )
    is_dash = isinstance(request, GetDASHStreamingSessionURLRequest)
    session = PlaybackSession(
        protocol=request.PROTOCOL,
        stream=stream.name,
        arn=stream.arn,
        mode=request.mode,
        timeline=timeline.value,
        start_ms=request.start_ms,
        end_ms=request.end_ms,
        container=request.packaging,
        discontinuities=request.discontinuities,
        display_timestamp=request.display_timestamp == "ALWAYS",
        display_number=request.shows_fragment_numbers,
        max_fragments=request.max_fragments,
        created_ms=now_ms,
        expires_ms=now_ms + request.expires_s * 1000,
        key_id=key_id,
    )
    first = _first_fragment(session, stream, fragments, now_ms)
    _check_playable(fragments.blob(first), session)
    token = session.encode(tokens)
    path = DASH_PREFIX + DASH_MANIFEST if is_dash else HLS_PREFIX + HLS_MASTER
    logger.info("playback session", extra={"stream": stream.name, "mode": session.mode, "protocol": session.protocol})
    return f"{base_url}{path}?{urlencode({'SessionToken': token})}"


def _first_fragment(
    session: PlaybackSession, stream: StreamRecord, fragments: FragmentIndex, now_ms: int
) -> FragmentRecord:
    if session.mode == "LIVE":
        timeline, start, end = Timeline.SERVER.value, now_ms - playback_window.LIVE_LOOKBACK_MS, now_ms
        missing = f"No fragments found in stream {stream.name} in the last 30 seconds"
    else:
        assert session.start_ms is not None
        timeline, start = session.timeline, session.start_ms
        end = session.end_ms if session.end_ms is not None else now_ms
        missing = f"No fragments found in stream {stream.name} for the requested time range"
    for _, record in fragments.scan(stream.media_id, timeline, start, end, expected=2):
        if stream.retains(record, now_ms=now_ms):
            return record
    raise ResourceNotFoundError(missing)


def _check_playable(data: bytes, session: PlaybackSession) -> None:
    tracks = tracks_of(data)
    allowed = TS_CODECS if session.container == "MPEG_TS" else FMP4_CODECS
    for track in tracks:
        if not track.codec.startswith(allowed):
            where = "MPEG-TS" if session.container == "MPEG_TS" else f"{session.protocol} (fragmented MP4)"
            played = "H.264, H.265 and AAC" if session.container == "MPEG_TS" else "H.264, H.265, AV1, VP9, AAC, Opus"
            raise UnsupportedStreamMediaTypeError(
                f"Track {track.number} holds {track.codec}, which {where} playback does not carry ({played} play)"
            )
    from stillframe.media import segments

    try:
        segments.init_segment(data, tracks[0].number)
    except segments.MissingCodecPrivateData as exc:
        raise MissingCodecPrivateDataError(str(exc)) from exc
