"""Fixtures for the media tests: small generated clips and helpers that read frames back."""

from __future__ import annotations

import io
from collections.abc import Callable
from fractions import Fraction

import av
import numpy as np
import pytest

# Small clips keep the suite fast; 25 fps makes frame N start at exactly N * 40 ms.
FPS = 25
FRAME_MS = 40
SMALL = {"width": 160, "height": 120, "fps": FPS}


@pytest.fixture(scope="session")
def small_clip(clip_factory: Callable[..., bytes]) -> Callable[..., bytes]:
    """make_clip at 160x120, 25 fps, cached for the session."""

    def make(**kwargs: object) -> bytes:
        return clip_factory(**{**SMALL, **kwargs})

    return make


@pytest.fixture(scope="session")
def frame_numbers() -> Callable[[bytes], list[int]]:
    """Decode a whole file with plain PyAV and read every frame's number, in presentation order."""
    from tests.support.synth import read_frame_number

    def read(data: bytes) -> list[int]:
        with av.open(io.BytesIO(data)) as container:
            return [read_frame_number(frame.to_image()) for frame in container.decode(video=0)]

    return read


@pytest.fixture(scope="session")
def with_audio_first() -> Callable[[bytes], bytes]:
    """Remux a video file into Matroska with a silent AAC track placed before the video track."""

    def remux(video: bytes) -> bytes:
        out = io.BytesIO()
        with av.open(io.BytesIO(video)) as source, av.open(out, "w", format="matroska") as target:
            audio = target.add_stream("aac", rate=48000)
            video_in = source.streams.video[0]
            video_out = target.add_stream_from_template(video_in, opaque=True)
            for index in range(50):
                samples = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
                samples.sample_rate, samples.pts, samples.time_base = 48000, index * 1024, Fraction(1, 48000)
                target.mux(audio.encode(samples))
            target.mux(audio.encode(None))
            for packet in source.demux(video_in):
                if packet.size:
                    packet.stream = video_out
                    target.mux(packet)
        return out.getvalue()

    return remux
