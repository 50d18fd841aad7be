"""Playback sessions: what a GetHLSStreamingSessionURL / GetDASHStreamingSessionURL URL grants, and the paths a
player follows from it.

Players cannot sign requests, so the session URL carries the credential: a ``SessionToken`` that holds the whole
session (stream, mode, range, format, expiry, and in keys mode the key it was issued to) and an HMAC over it
(``TokenCodec``, the NextToken secret). The server keeps no session state: every playlist, manifest and fragment
request decodes the token again, refuses it when altered or expired, and re-checks that the stream is the one the
session was made for (its ARN carries its creation time) and, in keys mode, that the key is still active and still
reaches the stream.

The paths are KVS's own (``/hls/v1/...``, ``/dash/v1/...``), so a playlist a player got from KVS and one from
Stillframe look alike; playlists and manifests name their media by paths relative to themselves.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Literal

from stillframe.domain.token import TokenCodec
from stillframe.errors import InvalidArgumentError, NotAuthorizedError

HLS_PREFIX = "/hls/v1/"
DASH_PREFIX = "/dash/v1/"
HLS_MASTER = "getHLSMasterPlaylist.m3u8"
HLS_MEDIA = "getHLSMediaPlaylist.m3u8"
MP4_INIT = "getMP4InitFragment.mp4"
MP4_MEDIA = "getMP4MediaFragment.mp4"
TS_FRAGMENT = "getTSFragment.ts"
DASH_MANIFEST = "getDASHManifest.mpd"

Resource = Literal["master", "media_playlist", "init", "media", "ts", "manifest"]
# path -> (protocol, resource): every GET a session URL leads to.
PLAYBACK_PATHS: dict[str, tuple[str, Resource]] = {
    HLS_PREFIX + HLS_MASTER: ("HLS", "master"),
    HLS_PREFIX + HLS_MEDIA: ("HLS", "media_playlist"),
    HLS_PREFIX + MP4_INIT: ("HLS", "init"),
    HLS_PREFIX + MP4_MEDIA: ("HLS", "media"),
    HLS_PREFIX + TS_FRAGMENT: ("HLS", "ts"),
    DASH_PREFIX + DASH_MANIFEST: ("DASH", "manifest"),
    DASH_PREFIX + MP4_INIT: ("DASH", "init"),
    DASH_PREFIX + MP4_MEDIA: ("DASH", "media"),
}

_BINDING = b"PlaybackSession"
_TO_URL = str.maketrans("+/=", "-_.")  # the token rides in a query string: an alphabet that needs no escaping
_FROM_URL = str.maketrans("-_.", "+/=")
TAMPERED = "SessionToken is not a session token this service issued, or it was altered"
EXPIRED = "The session has expired: get a new session URL"


def is_playback_path(path: str) -> bool:
    """True for a path a session URL leads to (authorized by its SessionToken, not by a signature)."""
    return path in PLAYBACK_PATHS


@dataclass(frozen=True)
class PlaybackSession:
    """Everything a session URL grants; times in epoch ms, ``timeline`` a ``Timeline`` value."""

    protocol: str  # "HLS" | "DASH"
    stream: str
    arn: str
    mode: str  # LIVE | LIVE_REPLAY | ON_DEMAND
    timeline: str
    start_ms: int | None
    end_ms: int | None
    container: str  # FRAGMENTED_MP4 | MPEG_TS (DASH: FRAGMENTED_MP4)
    discontinuities: str  # ALWAYS | NEVER | ON_DISCONTINUITY
    display_timestamp: bool
    display_number: bool
    max_fragments: int
    created_ms: int
    expires_ms: int
    key_id: str | None = None

    def encode(self, codec: TokenCodec) -> str:
        """The SessionToken of this session."""
        body = json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)
        return codec.encode(_BINDING, body).translate(_TO_URL)

    @classmethod
    def decode(cls, codec: TokenCodec, token: str | None, *, now_ms: int) -> PlaybackSession:
        """The session a SessionToken holds; NotAuthorizedError when it is altered, foreign or expired."""
        if not token:
            raise InvalidArgumentError("SessionToken is required: use the URL a session operation answered")
        if any(char in token for char in "+/="):
            raise NotAuthorizedError(TAMPERED)
        try:
            fields = json.loads(codec.decode(token.translate(_FROM_URL), _BINDING))
            session = cls(**fields)
        except (InvalidArgumentError, ValueError, TypeError) as exc:
            raise NotAuthorizedError(TAMPERED) from exc
        if now_ms >= session.expires_ms:
            raise NotAuthorizedError(EXPIRED)
        return session
