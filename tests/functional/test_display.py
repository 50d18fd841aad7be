"""Stills show the picture as a player shows it: display-matrix turns and flips applied, pixels made square.

The clips carry their display transform in the container only (PyAV writes the display matrix and the sample
aspect ratio); each case goes through every ingest door, and the frame number is read back from the still
after undoing the turn, so a sideways or mirrored still cannot pass.
"""

from __future__ import annotations

import base64
import io
from fractions import Fraction

import pytest
from PIL import Image

from tests.conftest import T0
from tests.support.doors import DOORS, ingest, still_size
from tests.support.kvs import get_images
from tests.support.synth import read_frame_number

FPS = 25
T = Image.Transpose
# (FFmpeg rotation, hflip) -> what turns the still back into the stored picture
ORIENTATIONS = {
    "portrait-phone": ((-90, False), [T.ROTATE_90]),
    "upside-down": ((180, False), [T.ROTATE_180]),
    "turned-left": ((90, False), [T.ROTATE_270]),
    "turned-and-mirrored": ((-90, True), [T.TRANSPOSE]),
}


@pytest.fixture
def stream(invoke):
    invoke("/createStream", {"StreamName": "cam", "DataRetentionInHours": 24})
    return "cam"


def numbers_after(page: dict, undo: list[Image.Transpose]) -> list[int]:
    numbers = []
    for image in page["Images"]:
        picture = Image.open(io.BytesIO(base64.b64decode(image["ImageContent"])))
        for step in undo:
            picture = picture.transpose(step)
        numbers.append(read_frame_number(picture))
    return numbers


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("case", sorted(ORIENTATIONS))
def test_turned_video_is_shown_upright(invoke, stream, clip_factory, tmp_path, door, case):
    # Given a 320x180 clip whose display matrix turns (and maybe mirrors) it, ingested through one door
    (rotation, hflip), undo = ORIENTATIONS[case]
    clip = clip_factory(
        frames=30, fps=FPS, gop=15, width=320, height=180, container="mp4", rotation_ccw=rotation, hflip=hflip
    )
    ingest(door, invoke, stream, clip, T0, tmp_path)
    sideways = rotation in (90, -90)

    # When GetImages asks for the original size, and for a height only
    original = get_images(invoke, stream, T0 + 0.2, T0 + 0.6, interval_ms=400)
    small = get_images(invoke, stream, T0 + 0.2, T0 + 0.2, HeightPixels=160)

    # Then the stills have the display size and the aspect ratio on screen, and show frames 5 and 15 upright
    assert [still_size(i) for i in original["Images"]] == [(180, 320) if sideways else (320, 180)] * 2
    assert still_size(small["Images"][0]) == ((90, 160) if sideways else (284, 160))
    assert numbers_after(original, undo) == [5, 15]
    assert numbers_after(small, undo) == [5]


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("container", ["mp4", "matroska", "mpegts"])
def test_anamorphic_video_gets_square_pixels(invoke, stream, clip_factory, tmp_path, door, container):
    # Given 360x288 video with pixels 64:45 wide (a 16:9 picture, as PAL widescreen at half size)
    clip = clip_factory(
        frames=20, fps=FPS, gop=10, width=360, height=288, container=container, sample_aspect_ratio=Fraction(64, 45)
    )
    ingest(door, invoke, stream, clip, T0, tmp_path)

    # When GetImages asks for the original size, a height only, and both
    original = get_images(invoke, stream, T0 + 0.2, T0 + 0.2)
    by_height = get_images(invoke, stream, T0 + 0.2, T0 + 0.2, HeightPixels=144)
    exact = get_images(invoke, stream, T0 + 0.2, T0 + 0.2, WidthPixels=100, HeightPixels=100)

    # Then the original size is the display size, a height alone keeps 16:9, and both are obeyed exactly
    assert still_size(original["Images"][0]) == (512, 288)
    assert still_size(by_height["Images"][0]) == (256, 144)
    assert still_size(exact["Images"][0]) == (100, 100)
    assert read_frame_number(base64.b64decode(by_height["Images"][0]["ImageContent"])) == 5
