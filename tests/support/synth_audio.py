"""A synthetic audio track to go with ``synth.make_clip``'s video: a sine tone, encoded alongside the frames.

AAC (FFmpeg's native encoder, as KVS producers send) for every container but WebM, which takes Opus. The tone
lasts exactly as long as the video; the encoder's priming packet (AAC's 1024 samples of delay) starts before it.
"""

from __future__ import annotations

from fractions import Fraction

import av
import av.audio.stream
import av.container
import numpy as np

SAMPLE_RATE = 48_000
_TONE_HZ = 440.0


def add_audio_stream(output: av.container.OutputContainer, container: str) -> av.audio.stream.AudioStream:
    """A mono audio track in ``output``: Opus for WebM, AAC otherwise."""
    stream = output.add_stream("libopus" if container == "webm" else "aac", rate=SAMPLE_RATE)
    if not isinstance(stream, av.audio.stream.AudioStream):
        raise ValueError("not an audio encoder")
    stream.layout = "mono"
    stream.format = "flt" if container == "webm" else "fltp"  # float samples either way (libopus: packed)
    stream.time_base = Fraction(1, SAMPLE_RATE)
    return stream


def encode_tone(output: av.container.OutputContainer, stream: av.audio.stream.AudioStream, seconds: Fraction) -> None:
    """Encode ``seconds`` of tone into ``stream``, from time 0, and flush the encoder."""
    total = int(seconds * SAMPLE_RATE)
    frame_size = stream.codec_context.frame_size or 1024
    for start in range(0, total, frame_size):
        count = min(frame_size, total - start)
        times = (np.arange(start, start + count) / SAMPLE_RATE).astype(np.float32)
        samples = (0.3 * np.sin(2 * np.pi * _TONE_HZ * times)).astype(np.float32).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format=stream.format.name, layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = SAMPLE_RATE, start, Fraction(1, SAMPLE_RATE)
        output.mux(stream.encode(frame))
    output.mux(stream.encode(None))
