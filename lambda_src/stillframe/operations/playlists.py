"""The text of HLS playlists and DASH manifests for a playback session's window (``playback_window``).

HLS: a master playlist with one variant (the video track, or the only track) and, when the fragments hold audio
beside video, the audio track as an alternate rendition (fMP4: one track per media playlist, as KVS serves them;
MPEG-TS: one playlist of segments that carry every track). DASH: one Period, an AdaptationSet per track, each
Representation a SegmentList whose SegmentTimeline gives every fragment's start and duration in milliseconds on
the session's timeline, which is also where its media segment's frames are timed; gaps stay gaps in the timeline
(players step over them) and ``kvs:ts`` / ``kvs:fn`` carry KVS's optional attributes. A fragment followed within
``DISCONTINUITY_MS`` by the next one lasts until that one starts in the timeline: server timestamps are arrival
times, a few ms apart from the media's durations, and a player that asks for "the segment after" at the previous
one's end plus a few ms (dash.js: 10 ms) finds nothing in such a hole and stops.

Media is named by paths relative to the playlist, each with the session's token, so only the session URL is
absolute.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode
from xml.sax.saxutils import quoteattr

from stillframe.domain.playback import HLS_MEDIA, MP4_INIT, MP4_MEDIA, TS_FRAGMENT, PlaybackSession
from stillframe.operations.playback_window import DISCONTINUITY_MS, Entry, Window

if TYPE_CHECKING:
    from stillframe.media.segments import TrackInfo  # PyAV: imported for its type only

HLS_CONTENT_TYPE = "application/vnd.apple.mpegurl"
DASH_CONTENT_TYPE = "application/dash+xml"
KVS_NAMESPACE = "https://kinesisvideo.amazonaws.com/dash"  # the prefix ``kvs:`` of DisplayFragment* attributes
AUDIO_GROUP = "audio"


def resource(name: str, token: str, **params: object) -> str:
    """A relative URL of one of the session's resources."""
    query = {key: value for key, value in params.items() if value is not None}
    return f"{name}?{urlencode({**query, 'SessionToken': token})}"


def hls_master(tracks: Sequence[TrackInfo], session: PlaybackSession, token: str) -> str:
    """The master playlist: the variant to play and, for fMP4 with audio beside video, the audio rendition."""
    video = next((track for track in tracks if track.kind == "video"), None)
    main = video or tracks[0]
    audio = next((track for track in tracks if track.kind == "audio" and track is not main), None)
    lines = ["#EXTM3U", f"#EXT-X-VERSION:{_version(session)}", "#EXT-X-INDEPENDENT-SEGMENTS"]
    codecs = [main.codec] + ([audio.codec] if audio is not None else [])
    bandwidth = sum(track.bitrate for track in tracks) or 1
    attributes = [f"BANDWIDTH={bandwidth}", f'CODECS="{",".join(codecs)}"']
    if video is not None and video.width and video.height:
        attributes.append(f"RESOLUTION={video.width}x{video.height}")
    if video is not None and video.frame_rate:
        attributes.append(f"FRAME-RATE={video.frame_rate:.3f}")
    if session.container == "MPEG_TS":
        lines += [f"#EXT-X-STREAM-INF:{','.join(attributes)}", resource(HLS_MEDIA, token)]
        return "\n".join(lines) + "\n"
    if audio is not None:
        uri = resource(HLS_MEDIA, token, TrackNumber=audio.number)
        lines.append(
            f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="{AUDIO_GROUP}",NAME="audio",DEFAULT=YES,AUTOSELECT=YES,URI="{uri}"'
        )
        attributes.append(f'AUDIO="{AUDIO_GROUP}"')
    lines += [f"#EXT-X-STREAM-INF:{','.join(attributes)}", resource(HLS_MEDIA, token, TrackNumber=main.number)]
    return "\n".join(lines) + "\n"


def hls_media(window: Window, session: PlaybackSession, token: str, track_number: int | None) -> str:
    """A media playlist: the window's fragments as segments of one track (fMP4) or of every track (MPEG-TS)."""
    entries = window.entries
    longest = max((entry.record.duration_ms for entry in entries), default=1000)
    lines = [
        "#EXTM3U",
        f"#EXT-X-VERSION:{_version(session)}",
        f"#EXT-X-TARGETDURATION:{max(1, math.ceil(longest / 1000))}",
        f"#EXT-X-MEDIA-SEQUENCE:{entries[0].sequence if entries else 0}",
    ]
    if window.discontinuity_sequence:
        lines.append(f"#EXT-X-DISCONTINUITY-SEQUENCE:{window.discontinuity_sequence}")
    if session.mode == "ON_DEMAND":
        lines.append("#EXT-X-PLAYLIST-TYPE:VOD")
    lines.append("#EXT-X-INDEPENDENT-SEGMENTS")
    fmp4 = session.container == "FRAGMENTED_MP4"
    for index, entry in enumerate(entries):
        number = entry.record.number
        if entry.discontinuity:  # counted in the discontinuity sequence of this entry and all after it
            lines.append("#EXT-X-DISCONTINUITY")
        if fmp4 and index == 0:
            # One init for the session, at a URI that stays the same as a live window slides (a player reloads an
            # init whose URI changed): the server builds it from the window's first fragment.
            lines.append(f'#EXT-X-MAP:URI="{resource(MP4_INIT, token, TrackNumber=track_number)}"')
        if session.display_timestamp:
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{_iso(entry.start_ms)}")
        lines.append(f"#EXTINF:{entry.record.duration_ms / 1000:.3f},")
        if fmp4:
            lines.append(resource(MP4_MEDIA, token, FragmentNumber=number, TrackNumber=track_number))
        else:
            lines.append(resource(TS_FRAGMENT, token, FragmentNumber=number))
    if window.ended:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def dash_manifest(
    window: Window, session: PlaybackSession, token: str, tracks: Sequence[TrackInfo], *, now_ms: int
) -> str:
    """The MPD: static for ON_DEMAND (and an ended LIVE_REPLAY), dynamic while fragments may still be added."""
    entries = window.entries
    static = window.ended
    total_ms = (entries[-1].start_ms + entries[-1].record.duration_ms - entries[0].start_ms) if entries else 0
    longest = max((entry.record.duration_ms for entry in entries), default=2000)
    head = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:kvs=' + quoteattr(KVS_NAMESPACE),
        '     profiles="urn:mpeg:dash:profile:isoff-live:2011"',
        f'     minBufferTime="{_duration(longest)}"',
    ]
    if static:
        head.append(f'     type="static" mediaPresentationDuration="{_duration(total_ms)}">')
        offset = entries[0].start_ms if entries else 0  # the presentation starts at the first fragment
    else:
        # Fragment starts are epoch times: with availability from the epoch, a segment is available from the
        # wall-clock time it starts at, which is what a live player needs to find the live edge.
        head += [
            '     type="dynamic" availabilityStartTime="1970-01-01T00:00:00Z"',
            f'     publishTime="{_iso(now_ms)}" minimumUpdatePeriod="PT1S"',
            f'     timeShiftBufferDepth="{_duration(max(total_ms, longest) + longest)}"',
            f'     suggestedPresentationDelay="{_duration(2 * longest)}">',
        ]
        offset = 0
    body = ['  <Period id="0" start="PT0S">']
    for track in tracks:
        body += _adaptation_set(track, entries, session, token, offset)
    return "\n".join(head + body + ["  </Period>", "</MPD>"]) + "\n"


def _adaptation_set(
    track: TrackInfo, entries: Sequence[Entry], session: PlaybackSession, token: str, offset: int
) -> list[str]:
    mime = "video/mp4" if track.kind == "video" else "audio/mp4"
    representation = [f'id="{track.number}"', f"codecs={quoteattr(track.codec)}", f'bandwidth="{track.bitrate or 1}"']
    if track.kind == "video":
        representation += [f'width="{track.width}"', f'height="{track.height}"']
        if track.frame_rate:
            representation.append(f'frameRate="{round(track.frame_rate * 1000)}/1000"')
    else:
        representation.append(f'audioSamplingRate="{track.sample_rate}"')
    init = resource(MP4_INIT, token, TrackNumber=track.number)  # the same URI as the window slides
    lines = [
        f'    <AdaptationSet contentType="{track.kind}" mimeType="{mime}" segmentAlignment="true" startWithSAP="1">',
        f"      <Representation {' '.join(representation)}>",
        f'        <SegmentList timescale="1000" presentationTimeOffset="{offset}">',
        f"          <Initialization sourceURL={quoteattr(init)}/>",
        "          <SegmentTimeline>",
    ]
    for entry, duration_ms in zip(entries, _timeline_durations(entries), strict=True):
        extra = ""
        if session.display_timestamp:
            extra += f' kvs:ts="{entry.start_ms}"'
        if session.display_number:
            extra += f' kvs:fn="{entry.record.number}"'
        lines.append(f'            <S t="{entry.start_ms}" d="{duration_ms}"{extra}/>')
    lines.append("          </SegmentTimeline>")
    for entry in entries:
        media = resource(MP4_MEDIA, token, FragmentNumber=entry.record.number, TrackNumber=track.number)
        lines.append(f"          <SegmentURL media={quoteattr(media)}/>")
    lines += ["        </SegmentList>", "      </Representation>", "    </AdaptationSet>"]
    return lines


def _timeline_durations(entries: Sequence) -> list[int]:
    """Each fragment's S@d: its duration, or up to the next start when that is within ``DISCONTINUITY_MS``."""
    durations = []
    for entry, following in zip(entries, [*entries[1:], None], strict=True):
        duration = entry.record.duration_ms
        if following is not None and abs(following.start_ms - entry.start_ms - duration) <= DISCONTINUITY_MS:
            duration = max(1, following.start_ms - entry.start_ms)
        durations.append(duration)
    return durations


def _version(session: PlaybackSession) -> int:
    return 7 if session.container == "FRAGMENTED_MP4" else 3


def _iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _duration(ms: int) -> str:
    return f"PT{ms / 1000:.3f}S"
