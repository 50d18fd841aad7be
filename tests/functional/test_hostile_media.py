"""Media written to hurt: what it claims about itself cannot make stills enormous or pass for Stillframe's own.

Issue 18, items 3 and 4. Every clip is generated here: a forged tag set, a 250:1 pixel aspect ratio on a tall,
thin picture, a coded picture larger than any codec level allows, and a GOP too long to decode a sample from.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import pytest

from tests.conftest import T0
from tests.support.doors import DOORS, ingest, still_size
from tests.support.hostile import plain_clip, with_tags
from tests.support.kvs import frame_numbers, get_images

# Every tag Stillframe writes into its fragments for itself, with a value that would show if it were believed:
# pixels 250 times wider, a quarter turn and a mirror, and a presentation window hiding all but 1.0-1.2 s.
FORGED = {
    "STILLFRAME_SAR": "250:1",
    "STILLFRAME_ROTATE_CW": "90",
    "STILLFRAME_MIRROR": "1",
    "STILLFRAME_PRESENT_FROM": "1000",
    "STILLFRAME_PRESENT_UNTIL": "1200",
}
LISTING = {
    "FragmentSelector": {
        "FragmentSelectorType": "SERVER_TIMESTAMP",
        "TimestampRange": {"StartTimestamp": 0, "EndTimestamp": 4_000_000_000},
    }
}


MEDIA_SOURCES = Path(__file__).resolve().parents[2] / "lambda_src" / "stillframe" / "media"


@pytest.fixture
def stream(invoke):
    invoke("/createStream", {"StreamName": "cam", "DataRetentionInHours": 24})
    return "cam"


def test_the_forged_set_names_every_tag_stillframe_writes_for_itself():
    written = {
        name
        for source in MEDIA_SOURCES.glob("*.py")
        for name in re.findall(r'"(STILLFRAME_[A-Z_]+)"', source.read_text())
    }
    assert written and written <= FORGED.keys()


@pytest.mark.parametrize("door", DOORS)
def test_stillframes_own_tags_in_an_upload_are_ignored(invoke, stream, clip_factory, tmp_path, door):
    # Given a 320x180 Matroska upload carrying every one of Stillframe's own tags, forged
    clip = with_tags(clip_factory(frames=50, fps=25, gop=25, width=320, height=180), FORGED)
    acks = ingest(door, invoke, stream, clip, T0, tmp_path)
    assert door == "drop-zone" or all(ack["EventType"] == "PERSISTED" for ack in acks)

    # When GetImages asks for the original size over the clip's 2 s
    page = get_images(invoke, stream, T0, T0 + 1.8, interval_ms=600)

    # Then the stills are the stored pictures, square, upright, unmirrored, from the first frame on
    assert [still_size(image) for image in page["Images"]] == [(320, 180)] * 4
    assert frame_numbers(page) == [0, 15, 30, 45]


@pytest.mark.parametrize("container", ["matroska", "mp4"])
@pytest.mark.parametrize("image_format", ["JPEG", "PNG"])
def test_a_huge_pixel_aspect_ratio_still_fits_the_box(invoke, stream, container, image_format):
    # Given a 16x4096 clip whose pixels claim to be 250 times wider than high (a 4000x4096 display size)
    clip = plain_clip(width=16, height=4096, frames=10, sar=Fraction(250), container=container)
    ingest("body", invoke, stream, clip, T0, Path())

    # When GetImages asks for the original size
    page = get_images(invoke, stream, T0, T0 + 0.2, interval_ms=200, Format=image_format)

    # Then each still fits inside 3840x2160 turned to its own orientation, with the display aspect ratio kept
    for image in page["Images"]:
        width, height = still_size(image)
        assert max(width, height) <= 3840 and min(width, height) <= 2160
        assert abs(width / height - 4000 / 4096) < 0.01


def test_a_height_alone_never_makes_a_still_wider_than_3840(invoke, stream):
    # Given a 4096x16 clip (256:1) and a request for stills 2160 high
    ingest("body", invoke, stream, plain_clip(width=4096, height=16, frames=5), T0, Path())
    page = get_images(invoke, stream, T0, T0, HeightPixels=2160)

    # Then the width the aspect ratio asks for is fitted into the box, aspect kept
    assert still_size(page["Images"][0]) == (3840, 15)


def test_pictures_larger_than_any_codec_level_are_refused_at_ingest(invoke, stream):
    # Given one 6000x6000 picture (36 megapixels: over the 35,651,584 of H.264/HEVC level 6.2)
    media = plain_clip(width=6000, height=6000, frames=1, codec="mjpeg")

    # When it is sent with PutMedia
    answer = invoke("/putMedia", media, headers={"x-amzn-stream-name": stream})

    # Then it is refused, naming the size, and nothing is stored
    assert answer["status"] == 400 and answer["headers"]["x-amzn-ErrorType"].startswith("InvalidArgumentException")
    assert "6000x6000" in answer["body"]["message"]
    assert invoke("/listFragments", {"StreamName": stream, **LISTING})["body"]["Fragments"] == []


@pytest.mark.parametrize("door", DOORS)
def test_a_gop_of_more_than_1200_frames_is_refused_at_ingest(invoke, stream, tmp_path, door):
    # Given 1.3 s at 1000 fps with a single key frame: one GOP of 1,300 frames
    media = plain_clip(width=64, height=64, frames=1300, fps=1000)

    # When it is ingested
    acks = ingest(door, invoke, stream, media, T0, tmp_path)

    # Then PutMedia answers an ERROR ack with KVS's MAX_FRAGMENT_SIZE_REACHED, and nothing is stored
    if door != "drop-zone":
        assert [(ack["EventType"], ack.get("ErrorId")) for ack in acks] == [("ERROR", 4001)]
        assert "1300 frames" in acks[0]["ErrorMessage"]
    assert invoke("/listFragments", {"StreamName": stream, **LISTING})["body"]["Fragments"] == []
    assert get_images(invoke, stream, T0, T0 + 1)["Images"][0]["Error"] == "NO_MEDIA"


def test_a_gop_of_1200_frames_is_accepted(invoke, stream, tmp_path):
    acks = ingest("body", invoke, stream, plain_clip(width=64, height=64, frames=1200, fps=1000), T0, tmp_path)
    assert [ack["EventType"] for ack in acks] == ["PERSISTED"]
