"""Scale a decoded frame and encode it as a standard JPEG or PNG still.

Scaling and colour conversion happen in one libswscale pass. JPEG goes straight from full-range
BT.601 4:2:0 planes into libjpeg-turbo (simplejpeg), skipping an RGB round trip; PNG comes from
libavcodec's encoder at a fast compression level (about twice Pillow's speed for the same size).
Each thread keeps its own scaler (building a libswscale context costs about as much as using it) and
every call its own encoder, so rendering is safe from a thread pool. ``frame.reformat`` is not: it caches
one scaler on the frame, and two threads rendering the same frame would share it and crash.
"""

from __future__ import annotations

import threading
from fractions import Fraction

import av
import av.video.frame
import av.video.plane
import numpy as np
import simplejpeg
from av.video.reformatter import ColorRange, Colorspace, VideoReformatter

IMAGE_FORMATS = ("JPEG", "PNG")
# zlib level 1 with Paeth prediction: the same size as Pillow's level 1, in about half the time.
_PNG_OPTIONS = {"compression_level": "1", "pred": "paeth"}
_local = threading.local()


def output_size(src_width: int, src_height: int, width: int | None, height: int | None) -> tuple[int, int]:
    """The still's size: the source's, exactly the one asked for, or the height with the source's aspect ratio."""
    if width is None and height is None:
        return src_width, src_height
    if width is not None and height is not None:
        return width, height
    if height is None:
        raise ValueError("a width without a height is not allowed; give the height, or both")
    return max(1, round(src_width * height / src_height)), height


def render(frame: av.video.frame.VideoFrame, *, width: int, height: int, image_format: str, quality: int = 80) -> bytes:
    """Scale ``frame`` to ``width`` x ``height`` and encode it as JPEG (quality 1..100, 4:2:0) or PNG."""
    if width < 1 or height < 1:
        raise ValueError("width and height must be at least 1")
    if image_format == "JPEG":
        if not 1 <= quality <= 100:
            raise ValueError("JPEG quality must be within 1..100")
        return _jpeg(frame, width, height, quality)
    if image_format == "PNG":
        return _png(frame, width, height)
    raise ValueError(f"image_format must be one of {IMAGE_FORMATS}, got {image_format!r}")


def _jpeg(frame: av.video.frame.VideoFrame, width: int, height: int, quality: int) -> bytes:
    # JFIF means full-range BT.601 YCbCr; swscale converts from whatever the source is tagged with.
    scaled = _reformatter().reformat(
        frame, width, height, "yuv420p", dst_colorspace=Colorspace.ITU601, dst_color_range=ColorRange.JPEG
    )
    y, u, v = (_plane_array(plane) for plane in scaled.planes)
    return bytes(simplejpeg.encode_jpeg_yuv_planes(_even_luma(y), u, v, quality=quality))


def _png(frame: av.video.frame.VideoFrame, width: int, height: int) -> bytes:
    scaled = _reformatter().reformat(frame, width, height, "rgb24")
    encoder = av.CodecContext.create("png", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "rgb24"
    encoder.time_base = Fraction(1, 1)
    encoder.options = dict(_PNG_OPTIONS)
    scaled.pts = None
    packets = [*encoder.encode(scaled), *encoder.encode(None)]
    if len(packets) == 1:  # the PNG encoder writes one packet per picture: copy it out once, not twice
        return bytes(packets[0])
    return b"".join(bytes(packet) for packet in packets)


def _reformatter() -> VideoReformatter:
    """This thread's scaler; it rebuilds its libswscale context only when sizes or formats change."""
    reformatter: VideoReformatter | None = getattr(_local, "reformatter", None)
    if reformatter is None:
        reformatter = _local.reformatter = VideoReformatter()
    return reformatter


def _even_luma(luma: np.ndarray) -> np.ndarray:
    """The luma plane, backed by memory of even width and height.

    For 4:2:0, TurboJPEG reads the luma plane rounded up to even dimensions; with an odd size it would
    read one row (or column) past the picture: unowned memory, and different bytes on every call.
    """
    height, width = luma.shape
    if height % 2 == 0 and width % 2 == 0:
        return luma
    padded = np.pad(luma, ((0, height % 2), (0, width % 2)), mode="edge")
    return padded[:height, :width]


def _plane_array(plane: av.video.plane.VideoPlane) -> np.ndarray:
    """A view of a plane's pixels without the row padding libav adds."""
    rows = np.frombuffer(memoryview(plane), np.uint8, count=plane.line_size * plane.height)
    return rows.reshape(plane.height, plane.line_size)[:, : plane.width]
