"""Remux stored fragments into one MP4 clip: every track they hold, packets copied, nothing re-encoded.

The clip shows exactly the frames on screen during the requested range: the frame on screen at its start (the
clip's time 0) through the last frame starting at or before its end. Packets a shown frame needs (from the key
frame before it) are kept but timed before 0, so the MP4 edit list leaves them out of the presentation; audio is
cut to the shown frames' span. Every fragment must hold the same tracks with the same codec private data (as KVS
requires of a clip).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TypeVar

import av
import av.container
import av.stream

from stillframe.errors import MediaError
from stillframe.media.demux import decode_times, presentation_window, to_ms

# Codecs whose packets need the codec private data (avcC/hvcC) in MP4: without it nothing can decode the clip.
_NEEDS_PRIVATE_DATA = frozenset({"h264", "hevc", "aac"})
_MUXER_OPTIONS = {"fflags": "+bitexact"}
P = TypeVar("P")  # a packet: PyAV's, or one of the segment writer's


class MissingCodecPrivateData(MediaError):
    """A track of a fragment lacks the codec private data MP4 needs."""


class CodecPrivateDataChanged(MediaError):
    """The fragments of a clip do not share one codec private data (or one track layout)."""


class NoFramesInRange(MediaError):
    """The fragments show no frame during the requested range."""


class UnsupportedTrack(MediaError):
    """A track whose codec MP4 cannot carry."""


@dataclass(frozen=True)
class ClipSource:
    """A stored fragment and its start (its first presented frame) in the requested timeline, in ms."""

    number: str
    data: bytes
    start_ms: int


@dataclass
class _Demuxed:
    """One fragment's packets by track index, and the clip times of its presented video frames."""

    source: ClipSource
    tracks: tuple[tuple[str, str, bytes | None], ...]  # (type, codec, extradata) per track
    templates: list[av.stream.Stream]
    packets: list[list[av.Packet]] = field(default_factory=list)
    origin_ms: int = 0  # the pts (ms) of the first presented video frame
    shown: list[tuple[int, int]] = field(default_factory=list)  # (time, duration) of presented frames, time order

    def time_of(self, pts_ms: int) -> int:
        return self.source.start_ms + pts_ms - self.origin_ms


def mux_clip(sources: Sequence[ClipSource], start_ms: int, end_ms: int) -> bytes:
    """The MP4 clip of ``sources`` (in time order) for [start_ms, end_ms]; MediaError (or a subclass) if impossible."""
    containers: list[av.container.InputContainer] = []
    try:
        fragments = [_demux(source, containers) for source in sources]
        _check_tracks(fragments)
        first_ms, last_end_ms = _shown_span(fragments, start_ms, end_ms)
        return _write(fragments, first_ms, last_end_ms, end_ms)
    finally:
        for container in containers:
            container.close()


def _demux(source: ClipSource, opened: list[av.container.InputContainer]) -> _Demuxed:
    try:
        container = av.open(io.BytesIO(source.data), mode="r", format="matroska", options={"skip_frame": "all"})
    except (av.FFmpegError, ValueError) as exc:
        raise MediaError(f"cannot parse fragment {source.number}: {exc}") from exc
    opened.append(container)
    streams = list(container.streams)
    tracks = tuple((s.type, s.codec_context.name, s.codec_context.extradata) for s in streams)
    fragment = _Demuxed(source, tracks, streams, [[] for _ in streams])
    try:
        for packet in container.demux():
            if packet.size and packet.pts is not None:
                fragment.packets[packet.stream.index].append(packet)
    except av.FFmpegError as exc:
        raise MediaError(f"cannot parse fragment {source.number}: {exc}") from exc
    video = _video_index(fragment)
    ordered = sorted(fragment.packets[video], key=_pts)
    if not ordered:
        raise MediaError(f"fragment {source.number} holds no video frames")
    base = streams[video].time_base or Fraction(1, 1000)
    starts = [to_ms(_pts(packet), base) for packet in ordered]
    window = presentation_window(container.metadata)
    low, high = (starts[0] + window[0], starts[0] + window[1]) if window else (starts[0], starts[-1] + 1)
    presented = [(start, packet) for start, packet in zip(starts, ordered, strict=True) if low <= start < high]
    if not presented:
        raise MediaError(f"fragment {source.number} presents no frames")
    fragment.origin_ms = presented[0][0]
    for start, packet in presented:
        duration = max(1, to_ms(_pts(packet) + (packet.duration or 0), base) - start)
        fragment.shown.append((fragment.time_of(start), duration))
    return fragment


def _video_index(fragment: _Demuxed) -> int:
    for index, (kind, _, _) in enumerate(fragment.tracks):
        if kind == "video":
            return index
    raise MediaError(f"fragment {fragment.source.number} has no video track")


def _check_tracks(fragments: Sequence[_Demuxed]) -> None:
    first = fragments[0]
    for kind, codec, extradata in first.tracks:
        if codec in _NEEDS_PRIVATE_DATA and not extradata:
            raise MissingCodecPrivateData(
                f"the {kind} track ({codec}) of fragment {first.source.number} has no codec private data"
            )
    for fragment in fragments[1:]:
        if [track[:2] for track in fragment.tracks] != [track[:2] for track in first.tracks]:
            raise CodecPrivateDataChanged(
                f"fragment {fragment.source.number} holds other tracks than fragment {first.source.number}: a clip "
                "needs the same tracks throughout; ask for the ranges before and after the change separately"
            )
        if fragment.tracks != first.tracks:
            raise CodecPrivateDataChanged(
                f"the codec private data changes between fragments {first.source.number} and "
                f"{fragment.source.number}: a clip needs one throughout; ask for the ranges on each side separately"
            )


def _shown_span(fragments: Sequence[_Demuxed], start_ms: int, end_ms: int) -> tuple[int, int]:
    """Clip time 0 (the start of the frame on screen at ``start_ms``, else the first later one) and the shown end."""
    frames = sorted(frame for fragment in fragments for frame in fragment.shown)
    on_screen = [time for time, duration in frames if time <= start_ms < time + duration]
    later = [time for time, _ in frames if start_ms <= time <= end_ms]
    if not on_screen and not later:
        raise NoFramesInRange("no frame of the fragments lies in the requested range")
    first = on_screen[-1] if on_screen else later[0]
    last_end = max(time + duration for time, duration in frames if first <= time <= end_ms)
    return first, last_end


def _write(fragments: Sequence[_Demuxed], first_ms: int, last_end_ms: int, end_ms: int) -> bytes:
    buffer = io.BytesIO()
    video = _video_index(fragments[0])
    try:
        with av.open(buffer, mode="w", format="mp4", options=_MUXER_OPTIONS) as output:
            outs = []
            for template in fragments[0].templates:
                track = output.add_stream_from_template(template, opaque=True)
                track.time_base = Fraction(1, 1000)
                outs.append(track)
            timed: list[tuple[int, int, av.Packet]] = []
            video_pts: list[int] = []
            video_packets: list[av.Packet] = []
            for fragment in fragments:
                kept = _video_packets(fragment, video, first_ms, end_ms)
                times = [fragment.time_of(_ms(packet)) - first_ms for packet in kept]
                video_packets, video_pts = stitch_open_gop(video_packets, video_pts, kept, times)
                for index, packets in enumerate(fragment.packets):
                    if index != video:
                        timed += _other_packets(fragment, packets, first_ms, last_end_ms, index)
            for packet, pts, dts in zip(video_packets, video_pts, decode_times(video_pts), strict=True):
                timed.append((dts, video, _retimed(packet, pts, dts)))
            timed.sort(key=lambda item: (item[0], item[1]))
            for _, index, packet in timed:
                packet.stream = outs[index]
                output.mux(packet)
    except av.FFmpegError as exc:
        raise UnsupportedTrack(f"cannot write the fragments' tracks into MP4: {exc}") from exc
    return buffer.getvalue()


def stitch_open_gop(
    packets: list[P], times: list[int], following: list[P], following_times: list[int]
) -> tuple[list[P], list[int]]:
    """``packets`` (decode order, times on one timeline) followed by the next fragment's, as one stream.

    A fragment cut before an open key frame ends with a decode-only copy of that key frame and the leading pictures
    decoded from it (docs/api-rules.md, "Every presented frame is reachable"); the next fragment starts with the key
    frame itself. Joined, the copy goes and the leading pictures follow the key frame, as in the original stream:
    kept, the same picture would be there twice (one timestamp, two frames).
    """
    if not packets or not following or not getattr(following[0], "is_keyframe", False):
        return packets + following, times + following_times
    copy = next(
        (
            at
            for at in range(len(packets) - 1, -1, -1)
            if times[at] == following_times[0] and getattr(packets[at], "is_keyframe", False)
        ),
        None,
    )
    if copy is None:
        return packets + following, times + following_times
    leading, leading_times = packets[copy + 1 :], times[copy + 1 :]
    return (
        packets[:copy] + following[:1] + leading + following[1:],
        times[:copy] + following_times[:1] + leading_times + following_times[1:],
    )


def _ms(packet: av.Packet) -> int:
    return to_ms(_pts(packet), Fraction(packet.time_base or Fraction(1, 1000)))


def _pts(packet: av.Packet) -> int:
    """A demuxed packet's pts (packets without one were left out when demuxing)."""
    return packet.pts or 0


def _video_packets(fragment: _Demuxed, video: int, first_ms: int, end_ms: int) -> list[av.Packet]:
    """The fragment's video packets in decode order from the key frame before its first shown frame through its
    last shown frame (what any shown frame can depend on); none when it shows none."""
    packets = fragment.packets[video]
    shown = {time for time, _ in fragment.shown if first_ms <= time <= end_ms}
    needed = [n for n, packet in enumerate(packets) if fragment.time_of(_ms(packet)) in shown]
    if not needed:
        return []
    begin = max((n for n in range(needed[0] + 1) if packets[n].is_keyframe), default=0)
    return packets[begin : needed[-1] + 1]


def _other_packets(
    fragment: _Demuxed, packets: list[av.Packet], first_ms: int, last_end_ms: int, index: int
) -> list[tuple[int, int, av.Packet]]:
    """Audio (and other) packets that start within the shown frames' span, timed in the clip."""
    kept = []
    for packet in packets:
        time = fragment.time_of(_ms(packet)) - first_ms
        if 0 <= time < last_end_ms - first_ms:
            kept.append((time, index, _retimed(packet, time, time)))
    return kept


def _retimed(packet: av.Packet, pts: int, dts: int) -> av.Packet:
    duration = to_ms(packet.duration or 0, Fraction(packet.time_base or Fraction(1, 1000)))
    packet.time_base = Fraction(1, 1000)
    packet.pts, packet.dts, packet.duration = pts, dts, max(1, duration)
    return packet
