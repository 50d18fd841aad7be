"""The display transform: FFmpeg display matrices to turns and mirrors, sizes on screen, and the fragment tags."""

from __future__ import annotations

import struct
from fractions import Fraction

import numpy as np
import pytest

from stillframe.media.display import Display, from_display_matrix, from_statement, from_tags

ONE = 1 << 16


def matrix(a: int, b: int, c: int, d: int) -> bytes:
    return struct.pack("=9i", a * ONE, b * ONE, 0, c * ONE, d * ONE, 0, 0, 0, 1 << 30)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (matrix(1, 0, 0, 1), Display()),
        (matrix(0, 1, -1, 0), Display(rotate_cw=90)),  # a phone held upright: turn clockwise
        (matrix(-1, 0, 0, -1), Display(rotate_cw=180)),
        (matrix(0, -1, 1, 0), Display(rotate_cw=270)),
        (matrix(-1, 0, 0, 1), Display(mirror=True)),
        (matrix(1, 0, 0, -1), Display(rotate_cw=180, mirror=True)),  # upside down mirrored = a vertical flip
        (None, Display()),
    ],
)
def test_display_matrix_to_turn_and_mirror(raw: bytes | None, expected: Display) -> None:
    assert from_display_matrix(raw, None) == expected


def test_an_odd_angle_is_shown_as_stored() -> None:
    half = round(ONE * 0.7071)
    raw = struct.pack("=9i", half, half, 0, -half, half, 0, 0, 0, 1 << 30)
    assert from_display_matrix(raw, Fraction(4, 3)) == Display(sar=Fraction(4, 3))


def test_orient_moves_pixels_like_the_transform() -> None:
    # A 2x3 picture: the pixel at the top right (row 0, column 2) ...
    picture = np.arange(6).reshape(2, 3)
    # ... is at the bottom right after a clockwise turn, and at the top left after a mirror
    assert Display(rotate_cw=90).orient(picture)[2, 1] == picture[0, 2]
    assert Display(mirror=True).orient(picture)[0, 0] == picture[0, 2]


@pytest.mark.parametrize(
    ("shown", "coded", "size"),
    [
        (Display(sar=Fraction(64, 45)), (720, 576), (1024, 576)),
        (Display(rotate_cw=90), (1920, 1080), (1080, 1920)),
        (Display(rotate_cw=270, sar=Fraction(4, 3)), (1440, 1080), (1080, 1920)),
        (Display(sar=Fraction(1, 2)), (100, 100), (50, 100)),
    ],
)
def test_display_size(shown: Display, coded: tuple[int, int], size: tuple[int, int]) -> None:
    assert shown.size(*coded) == size


def test_tags_round_trip_and_absent_tags_mean_none() -> None:
    shown = Display(rotate_cw=270, mirror=True, sar=Fraction(64, 45))
    assert from_tags(shown.tags()) == shown
    assert Display().tags() == {}
    assert from_tags({"TITLE": "x"}) is None


@pytest.mark.parametrize("tags", [{"STILLFRAME_ROTATE_CW": "45"}, {"STILLFRAME_SAR": "a:b"}, {"STILLFRAME_SAR": "1:0"}])
def test_malformed_tags_show_the_picture_as_stored(tags: dict[str, str]) -> None:
    assert from_tags(tags) == Display()


def test_a_stated_transform_reads_back_as_written():
    shown = Display(270, True, Fraction(64, 45))
    assert from_statement(shown.statement()) == shown
    assert from_statement("") == Display()


@pytest.mark.parametrize("text", ["rotate-cw=45", "mirror=yes", "sar=0:1", "sar=70000:1", "sar=a:b", "zoom=2"])
def test_a_malformed_statement_is_refused(text):
    with pytest.raises(ValueError):
        from_statement(text)
