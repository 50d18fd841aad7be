"""Scale a decoded frame and encode it as a standard JPEG or PNG still.

Scaling and colour conversion happen in one libswscale pass. JPEG goes straight from full-range
BT.601 4:2:0 planes into libjpeg-turbo (simplejpeg), skipping an RGB round trip; PNG comes from
libavcodec's encoder at a fast compression level (about twice Pillow's speed for the same size).
Each thread keeps its own scaler (building a libswscale context costs about as much as using it) and
every call its own encoder, so rendering is safe from a thread pool. ``frame.reformat`` is not: it caches
one scaler on the frame, and two threads rendering the same frame would share it and crash.

A picture the display matrix turns or mirrors is scaled to the unturned size, then turned as arrays (cheap at
the output size). Such pictures, and JPEGs of odd width or height, take a 4:4:4 scale and get their 4:2:0
chroma from a centred 2x2 average, as libjpeg subsamples: swscale maps the chroma plane of an odd size onto
the luma width instead of onto whole 2x2 blocks, which shifts colour by up to a pixel.
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

from stillframe.media.display import Display

IMAGE_FORMATS = ("JPEG", "PNG")
# zlib level 1 with Paeth prediction: the same size as Pillow's level 1, in about half the time.
_PNG_OPTIONS = {"compression_level": "1", "pred": "paeth"}
_local = threading.local()


# GetImages' own limits on WidthPixels x HeightPixels. A still made without them ("the original size", or a width
# computed from HeightPixels) fits inside this box turned to the picture's own orientation: the long side within
# 3840, the short side within 2160. Whatever size or pixel aspect the media claims, one still is at most
# 3840 x 2160 pixels (~25 MB as RGB), so a request's memory does not follow the media's claims.
MAX_LONG_SIDE = 3840
MAX_SHORT_SIDE = 2160


def output_size(src_width: int, src_height: int, width: int | None, height: int | None) -> tuple[int, int]:
    """The still's size: the source's, exactly the one asked for, or the height with the source's aspect ratio.

    Give the display size (``Display.size``) as the source's: "the original size" is what a player shows. A size
    this function computes (not one given in full) is fitted inside the box (``fit_box``).
    """
    if width is None and height is None:
        return fit_box(src_width, src_height)
    if width is not None and height is not None:
        return width, height
    if height is None:
        raise ValueError("a width without a height is not allowed; give the height, or both")
    return fit_box(max(1, round(src_width * height / src_height)), height)


def fit_box(width: int, height: int) -> tuple[int, int]:
    """``width`` x ``height`` scaled down, aspect kept, until the long side is within 3840 and the short within 2160.

    Sizes already inside the box are returned as they are (a portrait 1080x1920 stays); each side stays at least 1.
    """
    long_side, short_side = max(width, height), min(width, height)
    scale = min(Fraction(1), Fraction(MAX_LONG_SIDE, long_side), Fraction(MAX_SHORT_SIDE, short_side))
    if scale == 1:
        return width, height
    # exact arithmetic, rounded down: a side never passes its bound (7680x4320 -> 3840x2160 exactly)
    return max(1, int(width * scale)), max(1, int(height * scale))


def render(
    frame: av.video.frame.VideoFrame,
    *,
    width: int,
    height: int,
    image_format: str,
    quality: int = 80,
    display: Display | None = None,
) -> bytes:
    """Scale ``frame`` to ``width`` x ``height`` and encode it as JPEG (quality 1..100, 4:2:0) or PNG.

    ``display`` turns and mirrors the picture as a player would; ``width`` x ``height`` is the size on screen.
    """
    if width < 1 or height < 1:
        raise ValueError("width and height must be at least 1")
    turn = display if display is not None and display.reorients else None
    scale_width, scale_height = turn.unturned(width, height) if turn is not None else (width, height)
    if image_format == "JPEG":
        if not 1 <= quality <= 100:
            raise ValueError("JPEG quality must be within 1..100")
        return _jpeg(frame, scale_width, scale_height, quality, turn)
    if image_format == "PNG":
        return _png(frame, scale_width, scale_height, turn)
    raise ValueError(f"image_format must be one of {IMAGE_FORMATS}, got {image_format!r}")


def _jpeg(frame: av.video.frame.VideoFrame, width: int, height: int, quality: int, turn: Display | None) -> bytes:
    # JFIF means full-range BT.601 YCbCr; swscale converts from whatever the source is tagged with.
    if turn is None and width % 2 == 0 and height % 2 == 0:
        scaled = _reformatter().reformat(
            frame, width, height, "yuv420p", dst_colorspace=Colorspace.ITU601, dst_color_range=ColorRange.JPEG
        )
        y, u, v = (_plane_array(plane) for plane in scaled.planes)
    else:
        full = _reformatter().reformat(
            frame, width, height, "yuv444p", dst_colorspace=Colorspace.ITU601, dst_color_range=ColorRange.JPEG
        )
        y, u, v = (_plane_array(plane) for plane in full.planes)
        if turn is not None:
            y, u, v = turn.orient(y), turn.orient(u), turn.orient(v)
        u, v = _subsample(u), _subsample(v)
    return bytes(simplejpeg.encode_jpeg_yuv_planes(_even_luma(y), u, v, quality=quality))


def _subsample(chroma: np.ndarray) -> np.ndarray:
    """4:4:4 chroma to 4:2:0 the way libjpeg does it: each sample the mean of a 2x2 block, edges replicated."""
    height, width = chroma.shape
    padded = np.pad(chroma, ((0, height % 2), (0, width % 2)), mode="edge").astype(np.uint16)
    blocks = padded.reshape(padded.shape[0] // 2, 2, padded.shape[1] // 2, 2).sum(axis=(1, 3), dtype=np.uint16)
    return ((blocks + 2) >> 2).astype(np.uint8)


def _png(frame: av.video.frame.VideoFrame, width: int, height: int, turn: Display | None) -> bytes:
    scaled = _reformatter().reformat(frame, width, height, "rgb24")
    if turn is not None:
        scaled = av.VideoFrame.from_ndarray(turn.orient(scaled.to_ndarray()), format="rgb24")
    encoder = av.CodecContext.create("png", "w")
    encoder.width, encoder.height, encoder.pix_fmt = scaled.width, scaled.height, "rgb24"
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
