"""Where each packet of a stored fragment lands on a segment's timeline, in the track's timescale.

Stored fragments keep presentation times only, in ms. A segment needs decode times too, and they must agree with
its sample durations (each decode time is the previous one plus that sample's duration): decode times here are the
sorted presentation times shifted back just enough (``demux.decode_times``), so no composition offset is negative.
Video counts 90 kHz ticks, a whole multiple of ms (and MPEG-TS's clock); audio counts samples. AAC's ms-rounded
packet times are laid end to end, frame by frame, when within 1 ms of that, so only the first carries the rounding.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import av
import av.audio.stream
import av.stream

from stillframe.media.demux import decode_times

VIDEO_TIMESCALE = 90_000


@dataclass(frozen=True, slots=True)
class StoredPacket:
    """A demuxed packet with its stored start and duration in ms."""

    packet: av.Packet
    pts_ms: int
    duration_ms: int
    keyframe: bool


def track_timescale(stream: av.stream.Stream) -> int:
    """90 kHz for video, the sample rate for audio (module docstring)."""
    if isinstance(stream, av.audio.stream.AudioStream):
        return stream.codec_context.sample_rate or VIDEO_TIMESCALE
    return VIDEO_TIMESCALE


def timeline(
    stream: av.stream.Stream, packets: Sequence[StoredPacket], shift_ms: int, timescale: int
) -> tuple[list[int], list[int], list[int]]:
    """Decode times, composition offsets and durations of ``packets`` (decode order) in ``timescale``, each stored
    time moved by ``shift_ms``; decode times and durations agree (each time is the previous plus its duration)."""
    if stream.type == "video":
        pts = [timed.pts_ms + shift_ms for timed in packets]
        dts = decode_times(pts)
        ticks = timescale // 1000
        last = max(1, packets[-1].duration_ms) * ticks
        times = [value * ticks for value in dts]
        return times, [(p - d) * ticks for p, d in zip(pts, dts, strict=True)], _durations(times, last)
    frame = _aac_frame(stream)
    times = _audio_times([timed.pts_ms + shift_ms for timed in packets], timescale, frame)
    last = frame or max(1, _ticks(packets[-1].duration_ms, timescale))
    return times, [0] * len(times), _durations(times, last)


def _aac_frame(stream: av.stream.Stream) -> int:
    """Samples per AAC packet (the decoder's frame size, else 1024), 0 for other codecs: their packets vary."""
    if isinstance(stream, av.audio.stream.AudioStream) and stream.codec_context.name == "aac":
        return stream.codec_context.frame_size or 1024
    return 0


def _audio_times(pts_ms: list[int], rate: int, frame: int) -> list[int]:
    """Audio packet starts in samples: each where the previous ends (``frame`` samples on) when within 1 ms of it."""
    times = [_ticks(pts_ms[0], rate)]
    for start in pts_ms[1:]:
        stored, follows = _ticks(start, rate), times[-1] + frame
        times.append(follows if frame and abs(stored - follows) <= rate // 1000 else max(stored, times[-1]))
    return times


def _durations(times: list[int], last: int) -> list[int]:
    return [after - before for before, after in itertools.pairwise(times)] + [last]


def _ticks(ms: int, timescale: int) -> int:
    """Milliseconds in ``timescale`` units, rounding half up."""
    return (ms * timescale * 2 + 1000) // 2000


def to_90khz(ticks: int, timescale: int) -> int:
    """``ticks`` of ``timescale`` on the 90 kHz clock, rounding half up."""
    return (ticks * VIDEO_TIMESCALE * 2 + timescale) // (2 * timescale)
