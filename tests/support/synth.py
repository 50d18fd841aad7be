"""Synthetic test video whose every frame says which frame it is.

Each frame N carries three things over a moving background:

- a machine-readable code: two rows of black/white cells across the top of the picture. Row A holds
  guard cells (black, white) and the low 16 bits of N; row B holds guard cells (white, black), the high
  8 bits of N and a CRC-8 of N's three bytes. ``read_frame_number`` reads them back from a still of any
  size and refuses (ValueError) when guards or the CRC do not match, so a test never passes on a guess;
- the text ``frame N``;
- a running clock ``HH:MM:SS.mmm`` = ``clock_start + N / fps``.

Frame N of a clip has presentation time exactly ``N / fps`` (N counts from ``start_number``), key frames
fall exactly every ``gop`` frames, and B-frames are used only when asked for. Used by tests, the demo and
the benchmarks (dev-only: it is not in the runtime package, so nothing on a request path can import it).
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from fractions import Fraction
from functools import lru_cache

import av
import av.video.stream
from av.video.reformatter import VideoReformatter
from PIL import Image, ImageDraw, ImageFont, ImageStat

from tests.support.synth_audio import add_audio_stream, encode_tone

CONTAINERS = {"matroska": "matroska", "mp4": "mp4", "mp4-frag": "mp4", "mpegts": "mpegts", "webm": "webm"}
_CODEC_ALIASES = {"vp9": "libvpx-vp9", "h264": "libx264", "hevc": "libx265", "h265": "libx265", "av1": "libsvtav1"}
_FRAG_MP4_FLAGS = "frag_keyframe+empty_moov+default_base_moof"

# Code geometry, in fractions of the picture, shared by the writer and the reader.
_CELLS_PER_ROW = 18
_CODE_LEFT, _CODE_RIGHT = 0.03, 0.97
_ROW_TOPS = (0.03, 0.16)
_ROW_HEIGHT = 0.12
_MAX_NUMBER = (1 << 24) - 1
# A data cell must sit at least this far (as a share of the black-white span) from the midpoint.
_DECISION_MARGIN = 0.15
_MIN_CONTRAST = 60.0


def make_clip(
    *,
    seconds: float | None = None,
    frames: int | None = None,
    fps: int = 25,
    width: int = 320,
    height: int = 240,
    gop: int = 50,
    bframes: int = 0,
    codec: str = "libx264",
    container: str = "matroska",
    start_number: int = 0,
    clock_start: datetime | None = None,
    sample_aspect_ratio: Fraction | None = None,
    rotation_ccw: int = 0,
    hflip: bool = False,
    encoder_params: str = "",
    first_pts: int | None = None,
    audio: bool = False,
) -> bytes:
    """Encode a synthetic clip and return the file's bytes.

    Give ``seconds`` or ``frames``. ``container`` is one of matroska, mp4, mp4-frag (fragmented MP4),
    mpegts or webm (webm always uses VP9). ``codec`` is an FFmpeg encoder name (libx264, libx265,
    libvpx-vp9, libsvtav1) or a short alias (h264, hevc, vp9, av1). ``sample_aspect_ratio`` makes the pixels
    non-square (in the bitstream and the container); ``rotation_ccw`` (degrees, FFmpeg's sign: -90 is a phone's
    portrait clip) and ``hflip`` write a display matrix; ``encoder_params`` are extra ``key=value:...`` x264/x265
    parameters (e.g. ``open-gop=1``). ``first_pts`` gives the first frame another timestamp than its number (in
    frames; 0 with a later ``start_number`` makes a clip whose timestamps restart when joined after another).
    ``audio`` adds a tone track as long as the video (AAC; Opus in WebM; ``synth_audio``).
    """
    count = _frame_count(seconds, frames, fps)
    _check_geometry(width, height, start_number, count)
    if container not in CONTAINERS:
        raise ValueError(f"container must be one of {sorted(CONTAINERS)}, got {container!r}")
    encoder = "libvpx-vp9" if container == "webm" else _CODEC_ALIASES.get(codec, codec)
    clock = clock_start or datetime(2024, 1, 1)
    buffer = io.BytesIO()
    # bitexact: no random IDs or dates in the container, so the same request gives the same bytes.
    options = {"fflags": "+bitexact", **({"movflags": _FRAG_MP4_FLAGS} if container == "mp4-frag" else {})}
    with av.open(buffer, mode="w", format=CONTAINERS[container], options=options) as output:
        stream = output.add_stream(encoder, rate=fps, options=_encoder_options(encoder, gop, bframes, encoder_params))
        if not isinstance(stream, av.video.stream.VideoStream):
            raise ValueError(f"{encoder} is not a video encoder")
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if sample_aspect_ratio is not None:
            stream.codec_context.sample_aspect_ratio = sample_aspect_ratio
        if rotation_ccw or hflip:
            stream.set_display_rotation(rotation_ccw, hflip=hflip)
        stream.time_base = Fraction(1, fps)
        sound = add_audio_stream(output, container) if audio else None
        stream.codec_context.gop_size = gop
        if encoder == "libx264":
            stream.codec_context.max_b_frames = bframes
        painter, reformatter = _Painter(width, height), VideoReformatter()
        pts_shift = 0 if first_pts is None else first_pts - start_number
        for number in range(start_number, start_number + count):
            image = painter.paint(number, clock + timedelta(seconds=number / fps))
            frame = reformatter.reformat(av.VideoFrame.from_image(image), format="yuv420p")
            frame.pts, frame.time_base = number + pts_shift, Fraction(1, fps)
            if (number - start_number) % gop == 0:
                frame.pict_type = av.video.frame.PictureType.I
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
        if sound is not None:
            encode_tone(output, sound, Fraction(count, fps))
    return buffer.getvalue()


def paint_frame(number: int, width: int, height: int, fps: int = 25) -> Image.Image:
    """Frame ``number`` of a synthetic clip as an RGB picture of any size, odd ones included.

    For tests that encode what ``make_clip`` does not (other pixel formats, odd sizes, irregular timestamps).
    """
    return _painter(width, height).paint(number, datetime(2024, 1, 1) + timedelta(seconds=number / fps))


def read_frame_number(image: bytes | Image.Image) -> int:
    """Read the frame number back from a JPEG/PNG still (any size) of a synthetic frame.

    Raises ValueError when the code is missing or damaged; it never guesses.
    """
    picture = Image.open(io.BytesIO(image)) if isinstance(image, bytes | bytearray) else image
    gray = picture.convert("L")
    rows = [_sample_row(gray, row) for row in range(2)]
    black = (rows[0][0] + rows[1][1]) / 2
    white = (rows[0][1] + rows[1][0]) / 2
    if white - black < _MIN_CONTRAST:
        raise ValueError("no frame code found: guard cells have no contrast")
    bits_a = _threshold(rows[0][2:], black, white)
    bits_b = _threshold(rows[1][2:], black, white)
    number = _bits_to_int(bits_b[:8]) << 16 | _bits_to_int(bits_a)
    if _bits_to_int(bits_b[8:]) != _crc8(number):
        raise ValueError("frame code damaged: CRC mismatch")
    return number


def _frame_count(seconds: float | None, frames: int | None, fps: int) -> int:
    if (seconds is None) == (frames is None):
        raise ValueError("give exactly one of seconds or frames")
    count = frames if frames is not None else round((seconds or 0) * fps)
    if count < 1 or fps < 1:
        raise ValueError("a clip needs at least one frame and fps >= 1")
    return count


def _check_geometry(width: int, height: int, start_number: int, count: int) -> None:
    if width < 32 or height < 32 or width % 2 or height % 2:
        raise ValueError("width and height must be even and at least 32 (4:2:0 video)")
    if start_number < 0 or start_number + count - 1 > _MAX_NUMBER:
        raise ValueError(f"frame numbers must lie within 0..{_MAX_NUMBER}")


def _encoder_options(encoder: str, gop: int, bframes: int, extra: str = "") -> dict[str, str]:
    """Fast settings with key frames exactly every ``gop`` frames and closed GOPs (unless ``extra`` says otherwise)."""
    tail = f":{extra}" if extra else ""
    if encoder == "libx264":
        params = f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes={bframes}:open-gop=0{tail}"
        return {"preset": "ultrafast", "crf": "23", "x264-params": params}
    if encoder == "libx265":
        params = f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes={bframes}:open-gop=0:log-level=error{tail}"
        return {"preset": "ultrafast", "crf": "26", "x265-params": params}
    if encoder == "libvpx-vp9":
        # No alt-ref (hidden) frames: one packet per shown frame keeps frame counting simple.
        return {
            "deadline": "realtime",
            "cpu-used": "8",
            "lag-in-frames": "0",
            "auto-alt-ref": "0",
            "crf": "32",
            "b": "0",
            "keyint_min": str(gop),
        }
    if encoder == "libsvtav1":
        return {"preset": "8", "crf": "20", "svtav1-params": f"keyint={gop}:scd=0"}
    return {}


class _Painter:
    """Draws frames; the background and fonts are prepared once per clip."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.background = _background(width, height)
        self.font = ImageFont.load_default(size=max(8, height // 10))
        self.glyphs: dict[str, Image.Image] = {}
        # Digits share the advance of the widest digit, so the clock does not jitter sideways.
        self.digit_advance = max(round(self.font.getlength(ch)) for ch in "0123456789")

    def paint(self, number: int, clock: datetime) -> Image.Image:
        """Return frame ``number`` as an RGB image."""
        shift = (number * 4) % self.width
        image = self.background.crop((shift, 0, shift + self.width, self.height))
        draw = ImageDraw.Draw(image)
        self._draw_code(draw, number)
        self._draw_text(image, 0.34, f"frame {number}")
        self._draw_text(image, 0.50, clock.strftime("%H:%M:%S.") + f"{clock.microsecond // 1000:03d}")
        # A small square that travels across the lower part, so there is motion under the text too.
        side = self.height // 8
        x = (number * 7) % max(1, self.width - side)
        draw.rectangle((x, self.height - side - 4, x + side, self.height - 4), fill=(250, 250, 40))
        return image

    def _draw_code(self, draw: ImageDraw.ImageDraw, number: int) -> None:
        rows = [
            [1, 0, *_int_to_bits(number & 0xFFFF, 16)],
            [0, 1, *_int_to_bits(number >> 16, 8), *_int_to_bits(_crc8(number), 8)],
        ]
        band_bottom = (_ROW_TOPS[1] + _ROW_HEIGHT + 0.01) * self.height
        draw.rectangle((0, 0, self.width, band_bottom), fill=(128, 128, 128))
        for row, bits in enumerate(rows):
            for cell, bit in enumerate(bits):
                left, top, right, bottom = _cell_box(self.width, self.height, row, cell)
                colour = (0, 0, 0) if bit else (255, 255, 255)
                draw.rectangle((round(left), round(top), round(right) - 1, round(bottom) - 1), fill=colour)

    def _draw_text(self, image: Image.Image, top: float, text: str) -> None:
        """Paste cached glyph tiles (rendering text with FreeType every frame would dominate the cost)."""
        x, y = 8, round(top * self.height)
        for char in text:
            glyph = self._glyph(char)
            image.paste(glyph, (x, y))
            x += glyph.width

    def _glyph(self, char: str) -> Image.Image:
        glyph = self.glyphs.get(char)
        if glyph is None:
            size = max(8, self.height // 10)
            advance = self.digit_advance if char.isdigit() else max(1, round(self.font.getlength(char)))
            glyph = Image.new("RGB", (advance, round(size * 1.3)), (0, 0, 0))
            ImageDraw.Draw(glyph).text((0, size // 10), char, font=self.font, fill=(255, 255, 255))
            self.glyphs[char] = glyph
        return glyph


@lru_cache(maxsize=8)
def _painter(width: int, height: int) -> _Painter:
    return _Painter(width, height)


@lru_cache(maxsize=8)
def _background(width: int, height: int) -> Image.Image:
    """A colourful gradient twice as wide as the picture, so a sliding crop makes a moving scene."""
    ramp = Image.linear_gradient("L")
    red = ramp.rotate(90).resize((width, height))
    green = ramp.resize((width, height))
    blue = ramp.rotate(45).resize((width, height))
    tile = Image.merge("RGB", (red, green, blue))
    strip = Image.new("RGB", (2 * width, height))
    strip.paste(tile, (0, 0))
    strip.paste(tile.transpose(Image.Transpose.FLIP_LEFT_RIGHT), (width, 0))
    return strip


def _cell_box(width: int, height: int, row: int, cell: int) -> tuple[float, float, float, float]:
    cell_width = (_CODE_RIGHT - _CODE_LEFT) * width / _CELLS_PER_ROW
    left = _CODE_LEFT * width + cell * cell_width
    top = _ROW_TOPS[row] * height
    return left, top, left + cell_width, top + _ROW_HEIGHT * height


def _sample_row(gray: Image.Image, row: int) -> list[float]:
    """Mean brightness of the middle third of each cell of a row (robust to blur and JPEG ringing)."""
    means = []
    for cell in range(_CELLS_PER_ROW):
        left, top, right, bottom = _cell_box(gray.width, gray.height, row, cell)
        dx, dy = (right - left) / 3, (bottom - top) / 3
        box = (
            int(left + dx),
            int(top + dy),
            max(int(left + dx) + 1, round(right - dx)),
            max(int(top + dy) + 1, round(bottom - dy)),
        )
        means.append(ImageStat.Stat(gray.crop(box)).mean[0])
    return means


def _threshold(values: list[float], black: float, white: float) -> list[int]:
    middle, margin = (black + white) / 2, _DECISION_MARGIN * (white - black)
    bits = []
    for value in values:
        if abs(value - middle) < margin:
            raise ValueError("frame code unreadable: a cell is neither black nor white")
        bits.append(1 if value < middle else 0)
    return bits


def _int_to_bits(value: int, width: int) -> list[int]:
    return [(value >> shift) & 1 for shift in range(width - 1, -1, -1)]


def _bits_to_int(bits: list[int]) -> int:
    value = 0
    for bit in bits:
        value = value << 1 | bit
    return value


def _crc8(number: int) -> int:
    """CRC-8 (polynomial 0x07) of the number's three big-endian bytes."""
    crc = 0
    for byte in number.to_bytes(3, "big"):
        crc ^= byte
        for _ in range(8):
            crc = (crc << 1 ^ 0x07) & 0xFF if crc & 0x80 else crc << 1 & 0xFF
    return crc
