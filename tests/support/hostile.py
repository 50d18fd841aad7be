"""Hostile media for the security tests and the bench, generated on the spot (never committed binaries).

Plain frames (a flat grey that changes with the frame number) keep huge or fast clips cheap to encode; what
matters in these files is what their headers claim: the coded size, the sample aspect ratio, the GOP length, and
tags that only Stillframe's own splitter should write.
"""

from __future__ import annotations

import io
from fractions import Fraction

import av
import av.video.stream
import numpy as np


def plain_clip(
    *,
    width: int,
    height: int,
    frames: int,
    fps: int = 25,
    gop: int | None = None,
    sar: Fraction | None = None,
    codec: str = "libx264",
    container: str = "matroska",
) -> bytes:
    """``frames`` flat pictures of ``width`` x ``height``; one key frame every ``gop`` frames (default: only the
    first); ``sar`` written into the bitstream (H.264 VUI) and the container (Matroska DisplayWidth)."""
    buffer = io.BytesIO()
    options = {"preset": "ultrafast", "tune": "zerolatency"} if codec == "libx264" else {}
    if codec == "libx264":
        options["x264-params"] = f"keyint={gop or frames + 1}:min-keyint={gop or frames + 1}:scenecut=0"
    with av.open(buffer, mode="w", format=container, options={"fflags": "+bitexact"}) as output:
        stream = output.add_stream(codec, rate=fps, options=options)
        assert isinstance(stream, av.video.stream.VideoStream)
        pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        if sar is not None:
            stream.codec_context.sample_aspect_ratio = sar
        stream.time_base = Fraction(1, fps)
        picture = np.zeros((height * 3 // 2, width), dtype=np.uint8)
        for number in range(frames):
            picture[:height] = 16 + (number * 7) % 200
            picture[height:] = 128
            frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
            if pix_fmt != "yuv420p":
                frame = frame.reformat(format=pix_fmt)
            frame.pts, frame.time_base = number, Fraction(1, fps)
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return buffer.getvalue()


def with_tags(media: bytes, tags: dict[str, str]) -> bytes:
    """``media`` remuxed into Matroska carrying ``tags`` as global simple tags (as an attacker's muxer would)."""
    buffer = io.BytesIO()
    with av.open(io.BytesIO(media)) as source, av.open(buffer, mode="w", format="matroska") as output:
        output.metadata.update(tags)
        video = source.streams.video[0]
        track = output.add_stream_from_template(video)
        for packet in source.demux(video):
            if packet.size:
                packet.stream = track
                output.mux(packet)
    return buffer.getvalue()
