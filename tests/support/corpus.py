"""Tiny clips shaped like the video people actually have, each knowing when a player shows each of its frames.

``make_clip`` covers the common shape (8-bit 4:2:0, even sizes, constant rate); this module encodes the others:
irregular timestamps, 10-bit, 4:2:2 and 4:4:4, odd sizes, interlaced coding, an audio track that comes first,
MPEG-TS timestamps that wrap at 2^33, AV1, VP8, VP9 with hidden frames, MJPEG. Frame N paints the number N
(``synth.paint_frame``), so a still says which frame it shows; ``Clip.shown_at`` says which one it should be.
"""

from __future__ import annotations

import bisect
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import accumulate, cycle, islice, pairwise

import av
import av.audio.stream
import av.video.stream

from tests.support.synth import paint_frame

FPS = 25
SECONDS = 3
PTS_WRAP = 1 << 33  # MPEG-TS timestamps are 33 bits of a 90 kHz clock (about 26.5 hours)


@dataclass(frozen=True)
class Video:
    """How to encode the video track: frame N is shown at ``ticks[N]`` (in ``time_base``) until the next frame."""

    codec: str = "libx264"
    pix_fmt: str = "yuv420p"
    width: int = 160
    height: int = 120
    options: dict[str, str] = field(default_factory=dict)
    time_base: Fraction = Fraction(1, FPS)
    ticks: tuple[int, ...] = tuple(range(SECONDS * FPS))
    gop: int = FPS

    @property
    def durations(self) -> tuple[int, ...]:
        """How long each frame is shown: until the next one; the last as long as the one before it."""
        steps = tuple(b - a for a, b in pairwise(self.ticks))
        return (*steps, steps[-1])


@dataclass(frozen=True)
class Clip:
    """An encoded file and when each of its frames is on screen, in seconds from the first frame."""

    data: bytes
    starts: tuple[Fraction, ...]
    end: Fraction

    def shown_at(self, seconds: Fraction) -> int | None:
        """The frame a player shows ``seconds`` after the first frame starts, None before it or after the last."""
        if seconds < 0 or seconds >= self.end:
            return None
        return bisect.bisect_right(self.starts, seconds) - 1


def encode(video: Video, container: str, *, audio_first: bool = False, options: dict[str, str] | None = None) -> Clip:
    """Encode ``video`` into ``container``; ``audio_first`` adds an AAC track before it, starting before the video."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container, options={"fflags": "+bitexact", **(options or {})}) as output:
        audio = _add_audio(output) if audio_first else None
        stream = output.add_stream(video.codec, options=video.options)
        if not isinstance(stream, av.video.stream.VideoStream):
            raise ValueError(f"{video.codec} is not a video encoder")
        stream.width, stream.height, stream.pix_fmt = video.width, video.height, video.pix_fmt
        stream.time_base = stream.codec_context.time_base = video.time_base
        stream.codec_context.framerate = Fraction(FPS)
        stream.codec_context.gop_size = video.gop
        if audio is not None:  # the audio runs from zero, the video starts after a few of its packets
            _mux_audio(output, audio, seconds=float(video.ticks[-1] * video.time_base) + 1)
        for number, (pts, duration) in enumerate(zip(video.ticks, video.durations, strict=True)):
            frame = av.VideoFrame.from_image(paint_frame(number, video.width, video.height)).reformat(
                format=video.pix_fmt
            )
            frame.pts, frame.duration, frame.time_base = pts, duration, video.time_base
            if number % video.gop == 0:
                frame.pict_type = av.video.frame.PictureType.I
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    first = video.ticks[0]
    starts = tuple((pts - first) * video.time_base for pts in video.ticks)
    return Clip(buffer.getvalue(), starts, starts[-1] + video.durations[-1] * video.time_base)


def irregular_ticks(steps_ms: tuple[int, ...], count: int) -> tuple[int, ...]:
    """Millisecond timestamps of ``count`` frames a variable-rate camera writes: ``steps_ms`` apart, repeating."""
    return (0, *accumulate(islice(cycle(steps_ms), count - 1)))


def wrapping_ticks(before_wrap_s: Fraction, count: int = SECONDS * FPS) -> tuple[int, ...]:
    """90 kHz timestamps at 25 fps that pass 2^33 ``before_wrap_s`` into the clip (the TS muxer keeps 33 bits)."""
    step = 90_000 // FPS
    first = PTS_WRAP - int(before_wrap_s * 90_000)
    return tuple(first + n * step for n in range(count))


def _add_audio(output: av.container.OutputContainer) -> av.audio.stream.AudioStream:
    audio = output.add_stream("aac", rate=48_000)
    if not isinstance(audio, av.audio.stream.AudioStream):
        raise ValueError("aac is not an audio encoder")
    audio.layout = "mono"
    return audio


def _mux_audio(output: av.container.OutputContainer, audio: av.audio.stream.AudioStream, seconds: float) -> None:
    for frame in _silence(audio.rate or 48_000, seconds):
        output.mux(audio.encode(frame))
    output.mux(audio.encode(None))


def _silence(rate: int, seconds: float) -> Iterator[av.AudioFrame]:
    samples = 1024
    for n in range(int(seconds * rate) // samples):
        frame = av.AudioFrame(format="fltp", layout="mono", samples=samples)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.pts, frame.sample_rate, frame.time_base = n * samples, rate, Fraction(1, rate)
        yield frame
