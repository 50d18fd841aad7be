"""Benchmark video: textured, moving, grainy H.264 at a camera-like bitrate, each frame carrying its number.

synth's clips (flat gradients, ultrafast preset) decode about five times faster than real video, which would
make every ratio meaningless. Here the background is multi-scale colour noise that pans 4 px a frame, with a
film-grain layer that changes every frame, encoded by x264 ``veryfast`` at a fixed bitrate with closed 2 s GOPs
and no B-frames (the shape of an IP camera stream), or with three B-frames and a B-pyramid (x264's defaults:
adaptive B placement, the middle B of a run a reference), the shape of an encoder's file. The frame code, text
and moving square come from ``tests.support.synth`` so ``read_frame_number`` reads every still back.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
import av.video.stream
import numpy as np
from PIL import Image

from tests.support import synth

FPS = 25
GOP = 2 * FPS
# (cell size in px, amplitude): large soft blobs plus mid-size detail; finer noise only inflates key frames.
_TEXTURE_OCTAVES = ((256, 110), (64, 60), (16, 30))
_GRAIN = 10  # +- levels of per-frame grain: residual a P frame must code, like sensor noise
_GRAIN_FIELDS = 7  # grain fields cycled (a prime, so frame n and n + GOP differ)
_X264 = "keyint={gop}:min-keyint={gop}:scenecut=0:bframes={bframes}:open-gop=0:ipratio=1.1"


def encode_clip(path: Path, *, width: int, height: int, seconds: int, bitrate: int, bframes: int = 0) -> None:
    """Write ``seconds`` of benchmark video to ``path`` (Matroska, H.264 yuv420p, ``FPS`` fps, ``GOP`` GOP)."""
    painter = synth._Painter(width, height)  # synth's frame code, text and square, over our own background
    painter.background = Image.fromarray(_texture(2 * width, height))
    rng = np.random.default_rng(7)
    grains = [rng.integers(-_GRAIN, _GRAIN + 1, (height, width, 3), dtype=np.int16) for _ in range(_GRAIN_FIELDS)]
    clock = datetime(2026, 1, 1)
    tmp = path.with_suffix(".part")
    with av.open(str(tmp), mode="w", format="matroska") as output:
        stream = output.add_stream(
            "libx264", rate=FPS, options={"preset": "veryfast", "x264-params": _x264_params(bframes)}
        )
        if not isinstance(stream, av.video.stream.VideoStream):
            raise RuntimeError("libx264 is not a video encoder")
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.bit_rate = bitrate
        stream.time_base = Fraction(1, FPS)
        for number in range(seconds * FPS):
            picture = np.asarray(painter.paint(number, clock + timedelta(seconds=number / FPS)), np.int16)
            pixels = np.clip(picture + grains[number % _GRAIN_FIELDS], 0, 255).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24").reformat(format="yuv420p")
            frame.pts, frame.time_base = number, Fraction(1, FPS)
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    tmp.replace(path)


def _texture(width: int, height: int) -> np.ndarray:
    """Colour value noise at a few scales (bicubic-upsampled random grids), as an RGB array."""
    rng = np.random.default_rng(1)
    total = np.full((height, width, 3), 128.0, np.float32)
    for cell, amplitude in _TEXTURE_OCTAVES:
        rows, cols = height // cell + 2, width // cell + 2
        grid = (rng.random((rows, cols, 3)) * 255).astype(np.uint8)
        smooth = Image.fromarray(grid).resize((cols * cell, rows * cell), Image.Resampling.BICUBIC)
        total += (np.asarray(smooth, np.float32)[:height, :width] / 255 - 0.5) * amplitude
    return np.clip(total, 0, 255).astype(np.uint8)


def _x264_params(bframes: int) -> str:
    """x264's parameters: with B-frames, the pyramid made explicit (x264's default, named so it cannot drift)."""
    return _X264.format(gop=GOP, bframes=bframes) + (":b-pyramid=normal" if bframes else "")
