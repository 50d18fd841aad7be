"""GetImages through the handler: the frame on screen at every sample, in both timelines.

Every generated frame carries its number as a binary code; reading it back out of the returned
still proves which frame the service chose.
"""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from tests.conftest import T0
from tests.support.kvs import frame_numbers, get_images, put_media
from tests.support.synth import read_frame_number

FPS = 25
FRAME_MS = 1000 // FPS


@pytest.fixture
def stream(invoke):
    invoke("/createStream", {"StreamName": "cam", "DataRetentionInHours": 24})
    return "cam"


def test_every_sample_shows_the_frame_on_screen(invoke, stream, clip_factory):
    # Given 10 s of 25 fps video (2 s GOPs) that started at T0
    acks = put_media(invoke, stream, clip_factory(seconds=10, fps=FPS, gop=50), T0)
    assert all(a["EventType"] == "PERSISTED" for a in acks) and len(acks) == 5
    # When sampling every 1.3 s from T0 + 0.15 s, so samples fall at odd places inside fragments
    page = get_images(invoke, stream, T0 + 0.15, T0 + 9.9, interval_ms=1300)
    # Then each still is the last frame presented at or before its sample time
    expected = [int((150 + k * 1300) // FRAME_MS) for k in range(len(page["Images"]))]
    assert frame_numbers(page) == expected
    assert [i["TimeStamp"] for i in page["Images"]] == [round(T0 + 0.15 + k * 1.3, 3) for k in range(len(expected))]


def test_sample_inside_a_fragment_that_began_before_start(invoke, stream, clip_factory):
    put_media(invoke, stream, clip_factory(seconds=6, fps=FPS, gop=50), T0)
    # The fragment covering T0+1.5 started at T0 (2 s fragments); real KVS answers NO_MEDIA here.
    page = get_images(invoke, stream, T0 + 1.5, T0 + 1.5)
    assert frame_numbers(page) == [1500 // FRAME_MS]


def test_b_frames_and_mp4_edit_lists(invoke, stream, clip_factory):
    media = clip_factory(seconds=6, fps=FPS, gop=50, bframes=2, container="mp4")
    put_media(invoke, stream, media, T0)
    page = get_images(invoke, stream, T0, T0 + 5.96, interval_ms=370)
    assert frame_numbers(page) == [(k * 370) // FRAME_MS for k in range(len(page["Images"]))]


@pytest.mark.parametrize("container", ["matroska", "mpegts", "webm"])
def test_other_containers(invoke, stream, clip_factory, container):
    put_media(invoke, stream, clip_factory(seconds=4, fps=FPS, gop=50, container=container), T0)
    page = get_images(invoke, stream, T0 + 0.5, T0 + 3.5)
    assert frame_numbers(page) == [12, 37, 62, 87]


def test_gaps_are_no_media(invoke, stream, clip_factory):
    # Given two 4 s uploads with a 3 s hole between them
    put_media(invoke, stream, clip_factory(seconds=4, fps=FPS, gop=50), T0)
    put_media(invoke, stream, clip_factory(seconds=4, fps=FPS, gop=50, start_number=1000), T0 + 7)
    page = get_images(invoke, stream, T0 + 3, T0 + 8)
    assert frame_numbers(page) == [75, "NO_MEDIA", "NO_MEDIA", "NO_MEDIA", 1000, 1025]


def test_overlapping_fragments_the_later_start_wins(invoke, stream, clip_factory):
    put_media(invoke, stream, clip_factory(seconds=6, fps=FPS, gop=50), T0)
    put_media(invoke, stream, clip_factory(seconds=2, fps=FPS, gop=50, start_number=5000), T0 + 3)
    page = get_images(invoke, stream, T0 + 2, T0 + 5.5, interval_ms=500)
    # 2 s fragments: the second upload's [T0+3, T0+5) beats [T0+2, T0+4) but not [T0+4, T0+6)
    assert frame_numbers(page) == [50, 62, 5000, 5012, 100, 112, 125, 137]


def test_server_timestamps(invoke, stream, clip_factory):
    put_media(invoke, stream, clip_factory(seconds=4, fps=FPS, gop=50), T0)
    listed = invoke("/listFragments", {"StreamName": stream})["body"]["Fragments"]
    second = sorted(listed, key=lambda f: f["ServerTimestamp"])[1]
    start = second["ServerTimestamp"]
    body = {
        "StreamName": stream,
        "ImageSelectorType": "SERVER_TIMESTAMP",
        "StartTimestamp": start + 0.5,
        "EndTimestamp": start + 0.5,
        "SamplingInterval": 1000,
        "Format": "JPEG",
    }
    page = invoke("/getImages", body)["body"]
    assert frame_numbers(page) == [50 + 500 // FRAME_MS]


def test_pages_and_tokens(invoke, stream, clip_factory):
    put_media(invoke, stream, clip_factory(seconds=12, fps=FPS, gop=50), T0)
    request = dict(start=T0, end=T0 + 11.8, interval_ms=200)
    first = get_images(invoke, stream, **request)
    assert len(first["Images"]) == 25 and "NextToken" in first
    second = get_images(invoke, stream, **request, NextToken=first["NextToken"])
    assert second["Images"][0]["TimeStamp"] == T0 + 5.0
    assert frame_numbers(second)[:3] == [125, 130, 135]
    # a token only works for the request it was issued for
    other = invoke(
        "/getImages",
        {
            "StreamName": stream,
            "ImageSelectorType": "PRODUCER_TIMESTAMP",
            "StartTimestamp": T0,
            "EndTimestamp": T0 + 11.8,
            "SamplingInterval": 400,
            "Format": "JPEG",
            "NextToken": first["NextToken"],
        },
    )
    assert other["status"] == 400 and other["body"]["__type"] == "InvalidArgumentException"
    assert "NextToken" in other["body"]["message"]


def test_max_results_sets_the_page_size(invoke, stream, clip_factory):
    put_media(invoke, stream, clip_factory(seconds=4, fps=FPS, gop=50), T0)
    page = get_images(invoke, stream, T0, T0 + 3, interval_ms=200, MaxResults=4)
    assert len(page["Images"]) == 4 and "NextToken" in page
    big = get_images(invoke, stream, T0, T0 + 3.9, interval_ms=100 * 2, MaxResults=100)
    assert len(big["Images"]) == 20 and "NextToken" not in big


def test_resize_and_formats(invoke, stream, clip_factory):
    put_media(invoke, stream, clip_factory(seconds=2, fps=FPS, gop=50, width=320, height=240), T0)

    def one(**extra):
        page = get_images(invoke, stream, T0 + 1, T0 + 1, **extra)
        return Image.open(io.BytesIO(base64.b64decode(page["Images"][0]["ImageContent"])))

    assert one().size == (320, 240)
    assert one(HeightPixels=120).size == (160, 120)
    assert one(HeightPixels=100, WidthPixels=300).size == (300, 100)
    png = one(Format="PNG")
    assert png.format == "PNG" and read_frame_number(png) == 25
    small = get_images(invoke, stream, T0 + 1, T0 + 1, FormatConfig={"JPEGQuality": "5"})["Images"][0]["ImageContent"]
    large = get_images(invoke, stream, T0 + 1, T0 + 1, FormatConfig={"JPEGQuality": "95"})["Images"][0]["ImageContent"]
    assert len(small) < len(large)


def test_width_only_is_a_validation_exception(invoke, stream):
    answer = invoke(
        "/getImages",
        {
            "StreamName": stream,
            "ImageSelectorType": "PRODUCER_TIMESTAMP",
            "StartTimestamp": T0,
            "EndTimestamp": T0 + 1,
            "SamplingInterval": 1000,
            "Format": "JPEG",
            "WidthPixels": 100,
        },
    )
    assert answer["status"] == 400 and answer["body"]["__type"] == "ValidationException"


def test_unreadable_fragment_is_media_error(invoke, stream, clip_factory):
    put_media(invoke, stream, clip_factory(seconds=4, fps=FPS, gop=50), T0)
    store = invoke.services.store
    first_blob = next(o.key for o in store.list("media/cam/") if o.key.endswith(".mkv"))
    store.put(first_blob, b"this is not matroska" * 100)
    page = get_images(invoke, stream, T0 + 1, T0 + 3)
    assert frame_numbers(page) == ["MEDIA_ERROR", 50, 75]


def test_no_retention_stream(invoke, clip_factory):
    invoke("/createStream", {"StreamName": "ephemeral"})
    answer = invoke(
        "/getImages",
        {
            "StreamName": "ephemeral",
            "ImageSelectorType": "PRODUCER_TIMESTAMP",
            "StartTimestamp": T0,
            "EndTimestamp": T0 + 1,
            "Format": "JPEG",
        },
    )
    assert answer["status"] == 400 and answer["body"]["__type"] == "NoDataRetentionException"
    put = invoke("/putMedia", clip_factory(seconds=2, fps=FPS, gop=50), headers={"x-amzn-stream-name": "ephemeral"})
    assert put["status"] == 400


def test_unknown_stream_is_not_found(invoke):
    answer = invoke(
        "/getImages",
        {
            "StreamName": "ghost",
            "ImageSelectorType": "PRODUCER_TIMESTAMP",
            "StartTimestamp": T0,
            "EndTimestamp": T0 + 1,
            "Format": "JPEG",
        },
    )
    assert answer["status"] == 404 and answer["body"]["__type"] == "ResourceNotFoundException"
