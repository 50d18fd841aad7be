"""HLS and DASH segments of one stored fragment: fMP4 init and media segments per track, or one MPEG-TS segment.

Packets are copied, never re-encoded: H.264/H.265 in Matroska are already length-prefixed as in MP4, so a sample's
bytes go into the ``mdat`` as they are (the TS muxer converts them to Annex B and AAC to ADTS itself).

Timing: the fragment's first presented video frame lands exactly at ``start_ms`` (the caller's timeline, epoch ms)
and every packet keeps its offset from it, so segments of consecutive fragments follow each other on one timeline
with no edit list; ``tfdt`` is the absolute decode time of the first sample, a 64-bit count in the track's
timescale (video 90 kHz, audio its sample rate: ``segment_timing``).

The init segment depends only on the track's header (codec, codec private data, picture size or sample rate), so
one built from any fragment of a run with the same codec private data serves every fragment of that run.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import av
import av.audio.stream
import av.container
import av.stream
import av.video.stream

from stillframe.errors import MediaError
from stillframe.media import fmp4_boxes
from stillframe.media.clip_mux import MissingCodecPrivateData, UnsupportedTrack
from stillframe.media.codec_strings import codecs_string
from stillframe.media.segment_timing import VIDEO_TIMESCALE, StoredPacket, timeline, to_90khz, track_timescale
from stillframe.media.stored_fragment import StoredFragment, joined_open_gops, opened, opened_previous

__all__ = [
    "VIDEO_TIMESCALE",
    "MissingCodecPrivateData",
    "TrackInfo",
    "UnsupportedTrack",
    "init_segment",
    "media_segment",
    "tracks_of",
    "ts_segment",
]

TRACK_ID = 1  # every init segment holds one track, so its media segments all name track 1
# What fragmented MP4 (and the codecs string) can carry; and MPEG-TS, which HLS players decode.
_FMP4_CODECS = frozenset({"h264", "hevc", "vp9", "av1", "aac", "opus", "mp3", "flac", "ac3", "eac3"})
_TS_CODECS = frozenset({"h264", "hevc", "aac"})
_NEEDS_PRIVATE_DATA = frozenset({"h264", "hevc", "aac", "av1"})
_INIT_OPTIONS = {
    "movflags": "empty_moov+default_base_moof",
    "fflags": "+bitexact",
    "video_track_timescale": str(VIDEO_TIMESCALE),
}
# mpegts_copyts: the PES timestamps are written as given (no muxer delay added to them). initial_discontinuity: each
# segment's continuity counters start at 0, so its first packet of each PID says so (discontinuity_indicator);
# otherwise a demuxer reading the segments as one stream (FFmpeg's HLS) flags the packet at every join corrupt.
_TS_OPTIONS = {"mpegts_copyts": "1", "mpegts_flags": "+initial_discontinuity", "fflags": "+bitexact"}
_TS_WRAP = 1 << 33  # MPEG-TS timestamps are 33-bit counts of the 90 kHz clock


@dataclass(frozen=True)
class TrackInfo:
    """One track of a fragment, as a playlist or manifest describes it."""

    number: int  # KVS track number: 1-based position of the track in the fragment (1 = first, normally video)
    kind: str  # "video" | "audio"
    codec: str  # RFC 6381 codecs string (HLS CODECS, DASH @codecs)
    width: int = 0
    height: int = 0
    sample_rate: int = 0
    channels: int = 0
    bitrate: int = 0  # bits/s over this fragment (HLS BANDWIDTH)
    frame_rate: float = 0.0


def tracks_of(fragment: bytes) -> tuple[TrackInfo, ...]:
    """The fragment's video and audio tracks, in track-number order (other kinds are left out)."""
    with opened(fragment) as parsed:
        return tuple(
            _track_info(stream, parsed.packets[stream.index])
            for stream in parsed.streams
            if stream.type in ("video", "audio")
        )


def init_segment(fragment: bytes, track_number: int) -> bytes:
    """The fMP4 init segment (``ftyp`` + ``moov`` with ``mvex``) of one track of ``fragment``, as track 1."""
    with opened(fragment, packets=False) as parsed:
        stream = _fmp4_track(parsed, track_number)
        buffer = io.BytesIO()
        try:
            with av.open(buffer, mode="w", format="mp4", options=_INIT_OPTIONS) as output:
                track = output.add_stream_from_template(stream, opaque=True)
                track.time_base = Fraction(1, track_timescale(stream))
                if stream.codec_context.name == "hevc":
                    track.codec_tag = "hvc1"  # module docstring of codec_strings
                output.start_encoding()
        except av.FFmpegError as exc:
            raise UnsupportedTrack(f"cannot write track {track_number} ({stream.codec_context.name}) as fMP4") from exc
    # Without a packet the muxer writes ftyp and moov, then an empty index (mfra) that is no part of an init segment.
    return b"".join(whole for kind, whole in fmp4_boxes.top_boxes(buffer.getvalue()) if kind in (b"ftyp", b"moov"))


def media_segment(
    fragment: bytes,
    track_number: int,
    *,
    start_ms: int,
    sequence: int,
    previous: bytes | None = None,
    previous_start_ms: int = 0,
) -> bytes:
    """The fMP4 media segment (``moof`` + ``mdat``) of one track, the fragment's first frame presented at
    ``start_ms``; ``sequence`` is the ``mfhd`` sequence number.

    ``previous``: the fragment before it in the stream (starting at ``previous_start_ms``), for open GOPs: the
    leading pictures of this fragment's key frame are stored at the end of the previous fragment, behind a
    decode-only copy of the key frame (``stored_fragment.joined_open_gops``)."""
    with opened(fragment, track=track_number) as parsed, opened_previous(previous) as before:
        stream = _fmp4_track(parsed, track_number)
        packets = parsed.packets[stream.index]
        if not packets:
            raise MediaError(f"track {track_number} of the fragment holds no packets")
        video = stream.type == "video"
        if video:
            packets = joined_open_gops(parsed, before, start_ms, previous_start_ms)
        timescale = track_timescale(stream)
        times, offsets, durations = timeline(stream, packets, start_ms - parsed.origin_ms, timescale)
        samples = [
            fmp4_boxes.Sample(
                memoryview(timed.packet),
                duration,
                fmp4_boxes.SYNC_SAMPLE if timed.keyframe or not video else fmp4_boxes.NON_SYNC_SAMPLE,
                offset,
            )
            for timed, offset, duration in zip(packets, offsets, durations, strict=True)
        ]
        return fmp4_boxes.media_segment(TRACK_ID, sequence, times[0], samples)


def ts_segment(
    fragment: bytes, *, start_ms: int, sequence: int, previous: bytes | None = None, previous_start_ms: int = 0
) -> bytes:
    """The MPEG-TS segment of every video and audio track (H.264/H.265 and AAC), the first frame at ``start_ms``.

    Timestamps are ``start_ms`` and the offsets on the 90 kHz clock, modulo 2**33 as TS counts them. ``sequence``
    has no place in a TS segment (HLS numbers segments in the playlist) and is accepted for symmetry.
    """
    del sequence
    with opened(fragment) as parsed, opened_previous(previous) as before:
        streams = [stream for stream in parsed.streams if stream.type in ("video", "audio")]
        for stream in streams:
            _check_codec(stream, _TS_CODECS, "MPEG-TS")
        timed = []
        for order, stream in enumerate(streams):
            packets = parsed.packets[stream.index]
            if stream.type == "video":
                packets = joined_open_gops(parsed, before, start_ms, previous_start_ms)
            if packets:
                timed += _ts_times(order, stream, packets, -parsed.origin_ms)
        if not timed:
            raise MediaError("the fragment holds no video or audio packets")
        base = start_ms * 90 % _TS_WRAP
        # Every timestamp goes up by one wrap when the earliest would be negative (the muxer masks them to 33 bits).
        lift = _TS_WRAP if min(dts for dts, _, _, _ in timed) + base < 0 else 0
        return _write_ts(streams, sorted(timed, key=lambda item: (item[0], item[1])), base + lift)


def _fmp4_track(parsed: StoredFragment, track_number: int) -> av.stream.Stream:
    stream = _track(parsed, track_number)
    _check_codec(stream, _FMP4_CODECS, "fragmented MP4")
    return stream


def _track(parsed: StoredFragment, track_number: int) -> av.stream.Stream:
    numbers = [stream.index + 1 for stream in parsed.streams if stream.type in ("video", "audio")]
    if track_number not in numbers:
        held = ", ".join(map(str, numbers)) or "none"
        raise UnsupportedTrack(f"the fragment has no video or audio track {track_number} (its tracks: {held})")
    return parsed.streams[track_number - 1]


def _check_codec(stream: av.stream.Stream, allowed: frozenset[str], container: str) -> None:
    codec = stream.codec_context.name
    if codec not in allowed:
        raise UnsupportedTrack(
            f"track {stream.index + 1} is {codec}, which {container} segments cannot carry "
            f"(they carry {', '.join(sorted(allowed))})"
        )
    if codec in _NEEDS_PRIVATE_DATA and not stream.codec_context.extradata:
        raise MissingCodecPrivateData(f"track {stream.index + 1} ({codec}) has no codec private data")


def _ts_times(
    order: int, stream: av.stream.Stream, packets: Sequence[StoredPacket], shift_ms: int
) -> list[tuple[int, int, int, av.Packet]]:
    """(dts, track order, pts, packet) on the 90 kHz clock, relative to the TS base."""
    timescale = track_timescale(stream)
    times, offsets, durations = timeline(stream, packets, shift_ms, timescale)
    timed = []
    for timed_packet, dts, offset, duration in zip(packets, times, offsets, durations, strict=True):
        packet = timed_packet.packet
        packet.duration = to_90khz(duration, timescale)
        timed.append((to_90khz(dts, timescale), order, to_90khz(dts + offset, timescale), packet))
    return timed


def _write_ts(streams: list[av.stream.Stream], timed: list[tuple[int, int, int, av.Packet]], base: int) -> bytes:
    buffer = io.BytesIO()
    try:
        with av.open(buffer, mode="w", format="mpegts", options=_TS_OPTIONS) as output:
            tracks = []
            for stream in streams:
                track = output.add_stream_from_template(stream, opaque=True)
                track.time_base = Fraction(1, VIDEO_TIMESCALE)
                tracks.append(track)
            for dts, order, pts, packet in timed:
                packet.stream, packet.time_base = tracks[order], Fraction(1, VIDEO_TIMESCALE)
                packet.dts, packet.pts = base + dts, base + pts
                output.mux(packet)
    except av.FFmpegError as exc:
        raise UnsupportedTrack(f"cannot write the fragment's tracks as MPEG-TS: {exc}") from exc
    return buffer.getvalue()


def _track_info(stream: av.stream.Stream, packets: Sequence[StoredPacket]) -> TrackInfo:
    context = stream.codec_context
    if context.name in _NEEDS_PRIVATE_DATA and not context.extradata:
        raise MissingCodecPrivateData(f"track {stream.index + 1} ({context.name}) has no codec private data")
    span_ms = _span_ms(packets)
    bitrate = sum(timed.packet.size for timed in packets) * 8 * 1000 // span_ms if span_ms else 0
    if isinstance(stream, av.audio.stream.AudioStream):
        audio = stream.codec_context
        codec = _codecs(context.name, context.extradata)
        return TrackInfo(
            stream.index + 1, "audio", codec, sample_rate=audio.sample_rate, channels=audio.channels, bitrate=bitrate
        )
    if not isinstance(stream, av.video.stream.VideoStream):
        raise UnsupportedTrack(f"track {stream.index + 1} is neither video nor audio")
    video = stream.codec_context
    codec = _codecs(context.name, context.extradata, _profile_number(video.profile), video.width * video.height)
    rate = len(packets) * 1000 / span_ms if span_ms else float(stream.average_rate or 0)
    return TrackInfo(
        stream.index + 1,
        "video",
        codec,
        width=video.width,
        height=video.height,
        bitrate=bitrate,
        frame_rate=round(rate, 3),
    )


def _codecs(codec: str, extradata: bytes | None, profile: int = 0, pixels: int = 0) -> str:
    try:
        return codecs_string(codec, extradata or b"", profile=profile, pixels=pixels)
    except MediaError:
        return codec  # no RFC 6381 name: such a track cannot be segmented either (UnsupportedTrack there)


def _profile_number(name: str | None) -> int:
    """The number in FFmpeg's profile name ("Profile 2" for VP9), 0 when it has none."""
    digits = "".join(char for char in name or "" if char.isdigit())
    return int(digits) if digits else 0


def _span_ms(packets: Sequence[StoredPacket]) -> int:
    if not packets:
        return 0
    return max(t.pts_ms + t.duration_ms for t in packets) - min(t.pts_ms for t in packets)
