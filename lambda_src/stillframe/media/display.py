"""How a player shows a picture: the container's display matrix (rotation, mirroring) and the pixel aspect ratio.

The splitter reads both from the upload once and writes them into every fragment as Matroska tags
(``DISPLAY_TAGS``), so they survive each ingest door, including a fragment that is split again (``put-media``
sends Matroska chunks that the server splits once more). The renderer applies them: pixels are scaled to be
square, then the picture is turned and mirrored with cheap array operations at the output size.

Only the eight right-angle orientations exist here (what cameras and editors write); a display matrix with
any other angle is ignored, with a log line.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

logger = logging.getLogger(__name__)

ROTATE_TAG = "STILLFRAME_ROTATE_CW"  # 90, 180 or 270: clockwise turn applied after the mirror
MIRROR_TAG = "STILLFRAME_MIRROR"  # "1": mirror left-right first
SAR_TAG = "STILLFRAME_SAR"  # "64:45": width of one stored pixel over its height
DISPLAY_TAGS = (ROTATE_TAG, MIRROR_TAG, SAR_TAG)
_FIXED_ONE = 1 << 16  # FFmpeg's display matrix holds 16.16 fixed point in its 2x2 part
Matrix = tuple[int, int, int, int]  # (a, b, c, d): display point = (a*x + c*y, b*x + d*y), y pointing down


def _compose(first: Matrix, then: Matrix) -> Matrix:
    a1, b1, c1, d1 = first
    a2, b2, c2, d2 = then
    return (a1 * a2 + b1 * c2, a1 * b2 + b1 * d2, c1 * a2 + d1 * c2, c1 * b2 + d1 * d2)


_MIRROR: Matrix = (-1, 0, 0, 1)
_QUARTER_CW: Matrix = (0, 1, -1, 0)


def _matrix_of(rotate_cw: int, mirror: bool) -> Matrix:
    matrix: Matrix = _MIRROR if mirror else (1, 0, 0, 1)
    for _ in range(rotate_cw // 90):
        matrix = _compose(matrix, _QUARTER_CW)
    return matrix


_ORIENTATIONS = {_matrix_of(turn, mirror): (turn, mirror) for turn in (0, 90, 180, 270) for mirror in (False, True)}


@dataclass(frozen=True)
class Display:
    """A track's display transform: square the pixels (``sar``), mirror left-right, then turn clockwise."""

    rotate_cw: int = 0
    mirror: bool = False
    sar: Fraction = Fraction(1)

    @property
    def is_identity(self) -> bool:
        """True when stored pixels are shown as they are."""
        return not self.rotate_cw and not self.mirror and self.sar == 1

    @property
    def turns_sideways(self) -> bool:
        """True when width and height swap on screen (a quarter or three-quarter turn)."""
        return self.rotate_cw in (90, 270)

    @property
    def reorients(self) -> bool:
        """True when the picture must be turned or mirrored (not only scaled)."""
        return bool(self.rotate_cw or self.mirror)

    def size(self, coded_width: int, coded_height: int) -> tuple[int, int]:
        """The display size of a ``coded_width`` x ``coded_height`` picture: square pixels (height kept), turned."""
        width = max(1, round(coded_width * self.sar)) if self.sar > 0 else coded_width
        return (coded_height, width) if self.turns_sideways else (width, coded_height)

    def unturned(self, width: int, height: int) -> tuple[int, int]:
        """The size to scale to before turning, so that the turned picture is ``width`` x ``height``."""
        return (height, width) if self.turns_sideways else (width, height)

    def orient(self, plane: np.ndarray) -> np.ndarray:
        """Mirror and turn one picture plane (rows x columns[, channels]) as the display matrix says."""
        if self.mirror:
            plane = plane[:, ::-1]
        if self.rotate_cw:
            plane = np.rot90(plane, k=-(self.rotate_cw // 90))
        return np.ascontiguousarray(plane)

    def statement(self) -> str:
        """This transform as the put-media client states it in a PutMedia header (``from_statement`` reads it)."""
        return f"rotate-cw={self.rotate_cw};mirror={int(self.mirror)};sar={self.sar.numerator}:{self.sar.denominator}"

    def tags(self) -> dict[str, str]:
        """The Matroska tags that record this transform (none for the identity)."""
        tags = {}
        if self.rotate_cw:
            tags[ROTATE_TAG] = str(self.rotate_cw)
        if self.mirror:
            tags[MIRROR_TAG] = "1"
        if self.sar != 1:
            tags[SAR_TAG] = f"{self.sar.numerator}:{self.sar.denominator}"
        return tags


def from_tags(tags: Mapping[str, str]) -> Display | None:
    """The transform a fragment's tags record, or None when it carries none (old fragments: shown as stored)."""
    if not any(name in tags for name in DISPLAY_TAGS):
        return None
    try:
        rotate = int(tags.get(ROTATE_TAG, "0"))
        numerator, _, denominator = tags.get(SAR_TAG, "1:1").partition(":")
        sar = Fraction(int(numerator), int(denominator or 1))
    except (ValueError, ZeroDivisionError):
        logger.warning("ignored malformed display tags", extra={"tags": {k: tags.get(k) for k in DISPLAY_TAGS}})
        return Display()
    if rotate not in (0, 90, 180, 270) or sar <= 0:
        return Display()
    return Display(rotate, tags.get(MIRROR_TAG) == "1", sar)


_MAX_SAR_TERM = 65535  # H.264 VUI and HEVC write each term of the sample aspect ratio in 16 bits


def from_statement(text: str) -> Display:
    """The transform an uploader states (``Display.statement``); ValueError naming the problem when malformed.

    A client's statement has the power the same client has over a display matrix or a VUI aspect ratio, no more:
    right angles only, a ratio of 16-bit terms, and every still still fits GetImages' box (``render.fit_box``).
    """
    fields = dict(part.strip().partition("=")[::2] for part in text.split(";") if part.strip())
    unknown = fields.keys() - {"rotate-cw", "mirror", "sar"}
    if unknown:
        raise ValueError(f"unknown display fields {sorted(unknown)}; expected rotate-cw, mirror and sar")
    rotate = int(fields.get("rotate-cw", "0"))
    if rotate not in (0, 90, 180, 270):
        raise ValueError("rotate-cw must be 0, 90, 180 or 270")
    mirror = fields.get("mirror", "0")
    if mirror not in ("0", "1"):
        raise ValueError("mirror must be 0 or 1")
    numerator, _, denominator = fields.get("sar", "1:1").partition(":")
    terms = int(numerator), int(denominator or "1")
    if not all(1 <= term <= _MAX_SAR_TERM for term in terms):
        raise ValueError(f"sar must be two whole numbers within 1..{_MAX_SAR_TERM}, as W:H")
    return Display(rotate, mirror == "1", Fraction(*terms))


def from_display_matrix(raw: bytes | None, sar: Fraction | None) -> Display:
    """The transform of FFmpeg's 3x3 display matrix (``AV_FRAME_DATA_DISPLAYMATRIX`` bytes) and a sample aspect."""
    square = sar if sar is not None and sar > 0 else Fraction(1)
    if raw is None or len(raw) < 36:
        return Display(sar=square)
    a, b, _, c, d, *_ = struct.unpack("=9i", raw[:36])
    signs = tuple(_sign(value) for value in (a, b, c, d))
    orientation = _ORIENTATIONS.get(signs)  # type: ignore[arg-type]
    if orientation is None:
        logger.warning("display matrix is not a right-angle turn; shown as stored", extra={"matrix": (a, b, c, d)})
        return Display(sar=square)
    return Display(*orientation, square)


def _sign(value: int) -> int:
    if abs(value) < _FIXED_ONE // 2:
        return 0
    return 1 if value > 0 else -1
