"""What a playback session's URL leads to: playlists, manifests and media segments remuxed from the stored fragments
(``media.segments``; never re-encoded). The session itself is made by ``playback_session``.

Every request is a plain GET with the session's token: decoded, checked (altered, expired, the stream re-created,
in keys mode the key revoked or no longer reaching the stream), then answered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stillframe.catalog.fragments import MAX_FRAGMENT_MS, FragmentIndex
from stillframe.catalog.keys import FragmentRecord
from stillframe.catalog.stream_record import StreamRecord
from stillframe.catalog.streams import StreamCatalog
from stillframe.domain.playback import (
    PLAYBACK_PATHS,
    PlaybackSession,
)
from stillframe.domain.token import TokenCodec
from stillframe.errors import (
    InvalidArgumentError,
    InvalidMediaFrameError,
    MediaError,
    MissingCodecPrivateDataError,
    NotAuthorizedError,
    ResourceNotFoundError,
    UnsupportedStreamMediaTypeError,
)
from stillframe.operations import playback_window, playlists

if TYPE_CHECKING:
    from stillframe.media.segments import TrackInfo

logger = logging.getLogger(__name__)

AUDIO_TRACK = 2  # KVS's layout: track 1 video (or the only track), track 2 audio
KeyCheck = Callable[[str, str], None]  # (access key id, stream name): raises NotAuthorizedError when it may not
LISTINGS = {"master": "master playlist", "media_playlist": "media playlist", "manifest": "manifest"}
# What a caller can do about an answer too big for this endpoint (each URI of a listing carries the token).
TOO_BIG_REMEDIES = {
    "master": "ask for fewer fragments (MaxMediaPlaylistFragmentResults)",
    "media_playlist": "ask for fewer fragments (MaxMediaPlaylistFragmentResults)",
    "manifest": "ask for fewer fragments (MaxManifestFragmentResults)",
    "segment": "store shorter fragments (a key frame more often), or play the stream from `stillframe serve`",
}


@dataclass(frozen=True)
class Answer:
    """A playback resource: its bytes (or text) and Content-Type."""

    content_type: str
    body: bytes | str


def resource(
    path: str,
    params: Mapping[str, str],
    *,
    streams: StreamCatalog,
    fragments: FragmentIndex,
    tokens: TokenCodec,
    now_ms: int,
    key_check: KeyCheck | None,
    max_bytes: int,
) -> Answer:
    """One GET of a session: ``path`` one of ``PLAYBACK_PATHS``, ``params`` its query string. An answer over
    ``max_bytes`` (what this endpoint can answer with; deployed, Lambda's response cap after base64) is refused
    whole, naming the limit: never cut short, never a failed invocation."""
    protocol, kind = PLAYBACK_PATHS[path]
    token = params.get("SessionToken") or ""
    session = PlaybackSession.decode(tokens, token, now_ms=now_ms)
    if session.protocol != protocol:
        raise NotAuthorizedError(f"This SessionToken is for an {session.protocol} session, not {protocol}")
    stream = _session_stream(session, streams)
    if session.key_id is not None:
        if key_check is None:
            raise NotAuthorizedError("This session was made for an access key, and this endpoint checks none")
        key_check(session.key_id, session.stream)
    get = _SessionGet(session, token, stream, fragments, now_ms, params)
    answer = _listing(get, kind) if kind in LISTINGS else _segment(get, kind)
    size = len(answer.body.encode() if isinstance(answer.body, str) else answer.body)
    if size > max_bytes:
        what = LISTINGS.get(kind) or f"segment of fragment {params.get('FragmentNumber')}"
        raise InvalidArgumentError(
            f"The {what} would be {size:,} bytes, over the {max_bytes:,} bytes this endpoint answers with: "
            + TOO_BIG_REMEDIES.get(kind, TOO_BIG_REMEDIES["segment"])
        )
    return answer


@dataclass(frozen=True)
class _SessionGet:
    """One GET of a session, checked: what answering it reads from."""

    session: PlaybackSession
    token: str
    stream: StreamRecord
    fragments: FragmentIndex
    now_ms: int
    params: Mapping[str, str]

    def window(self) -> playback_window.Window:
        return playback_window.window(self.session, self.token, self.stream, self.fragments, now_ms=self.now_ms)

    def first_entry(self, window: playback_window.Window) -> FragmentRecord:
        """The window's first fragment; ResourceNotFoundError while the session has none."""
        if not window.entries:
            raise ResourceNotFoundError(f"No fragments found in stream {self.session.stream} for this session yet")
        return window.entries[0].record

    def fragment(self, number: str) -> FragmentRecord:
        """The fragment ``number``, if the session grants it (else ResourceNotFoundError)."""
        session, stream = self.session, self.stream
        record = self.fragments.by_number(stream.media_id, number)
        if (
            record is None
            or not stream.retains(record, now_ms=self.now_ms)
            or not playback_window.member(session, record)
        ):
            raise ResourceNotFoundError(f"Fragment {number} is not part of this session")
        return record

    def previous(self, record: FragmentRecord) -> tuple[bytes | None, int]:
        """The stored fragment that ends where ``record`` starts (its bytes and start), whose end may hold the
        leading pictures of ``record``'s open key frame (``media.stored_fragment``); (None, 0) when none ends there."""
        timeline = self.session.timeline
        start = record.start(timeline)
        before = [
            found
            for _, found in self.fragments.scan(self.stream.media_id, timeline, start - MAX_FRAGMENT_MS, start - 1)
            if found.start(timeline) + found.duration_ms == start
        ]
        if not before:
            return None, 0
        return self.fragments.blob(before[-1]), before[-1].start(timeline)


def _listing(get: _SessionGet, kind: str) -> Answer:
    """The master or media playlist, or the DASH manifest."""
    session, token = get.session, get.token
    window = get.window()
    if kind == "media_playlist":
        track = _track_number(get.params) if session.container == "FRAGMENTED_MP4" else None
        return Answer(playlists.HLS_CONTENT_TYPE, playlists.hls_media(window, session, token, track))
    tracks = tracks_of(get.fragments.blob(get.first_entry(window)))
    if kind == "master":
        return Answer(playlists.HLS_CONTENT_TYPE, playlists.hls_master(tracks, session, token))
    manifest = playlists.dash_manifest(window, session, token, tracks, now_ms=get.now_ms)
    return Answer(playlists.DASH_CONTENT_TYPE, manifest)


def _segment(get: _SessionGet, kind: str) -> Answer:
    from stillframe.media import segments  # PyAV: loaded by the first segment, not at cold start

    number = get.params.get("FragmentNumber")
    if number is None and kind == "init":
        record = get.first_entry(get.window())
    else:
        record = get.fragment(_fragment_number(number))
    data = get.fragments.blob(record)
    start = record.start(get.session.timeline)
    try:
        if kind == "ts":
            before, before_ms = get.previous(record)
            ts = segments.ts_segment(data, start_ms=start, sequence=0, previous=before, previous_start_ms=before_ms)
            return Answer("video/MP2T", ts)
        track = _track_number(get.params)
        content_type = "audio/mp4" if track == AUDIO_TRACK else "video/mp4"  # players go by the playlist, not this
        if kind == "init":
            return Answer(content_type, segments.init_segment(data, track))
        before, before_ms = get.previous(record) if track != AUDIO_TRACK else (None, 0)
        media = segments.media_segment(
            data, track, start_ms=start, sequence=1, previous=before, previous_start_ms=before_ms
        )
        return Answer(content_type, media)
    except segments.UnsupportedTrack as exc:
        raise UnsupportedStreamMediaTypeError(str(exc)) from exc
    except segments.MissingCodecPrivateData as exc:
        raise MissingCodecPrivateDataError(str(exc)) from exc
    except MediaError as exc:
        raise InvalidMediaFrameError(f"Fragment {record.number} cannot be read: {exc}") from exc


def _session_stream(session: PlaybackSession, streams: StreamCatalog) -> StreamRecord:
    try:
        return streams.find(session.stream, session.arn)
    except ResourceNotFoundError:
        raise ResourceNotFoundError(
            f"The stream {session.stream} of this session no longer exists (deleted, or re-created since)"
        ) from None


def tracks_of(data: bytes) -> tuple[TrackInfo, ...]:
    from stillframe.media import segments

    try:
        tracks = segments.tracks_of(data)
    except segments.UnsupportedTrack as exc:
        raise UnsupportedStreamMediaTypeError(str(exc)) from exc
    except MediaError as exc:
        raise InvalidMediaFrameError(f"The session's media cannot be read: {exc}") from exc
    if not tracks:
        raise UnsupportedStreamMediaTypeError("The stream's fragments hold no track to play")
    return tracks


def _track_number(params: Mapping[str, str]) -> int:
    text = params.get("TrackNumber", "1")
    if not text.isdigit() or not 1 <= int(text) <= 2:
        raise InvalidArgumentError(f"TrackNumber must be 1 or 2, not {text!r}")
    return int(text)


def _fragment_number(text: str | None) -> str:
    if text is None:
        raise InvalidArgumentError("FragmentNumber is required")
    if not text.isdigit() or len(text) > 128:
        raise InvalidArgumentError(f"FragmentNumber must be a fragment number (digits), not {text!r}")
    return text
