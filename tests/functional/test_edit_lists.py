"""GetImages through the handler for MP4s whose edit list trims the clip: what a player shows is what is served.

A stream-copied cut (``ffmpeg -ss 1 -c copy``) keeps the whole GOP the cut falls in and lets the edit list hide
the frames before the cut; those frames must never be served, and the producer start time is the cut's frame.
"""

from __future__ import annotations

import pytest

from tests.conftest import T0
from tests.support.doors import DOORS, ingest
from tests.support.edit_lists import with_edit_list
from tests.support.kvs import frame_numbers, get_images

FPS = 25


@pytest.fixture
def stream(invoke):
    invoke("/createStream", {"StreamName": "cam", "DataRetentionInHours": 24})
    return "cam"


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("bframes", [0, 2])
def test_trimmed_mp4_starts_at_the_edit(invoke, stream, clip_factory, tmp_path, door, bframes):
    # Given a 6 s MP4 (2 s GOPs) cut 1 s in by its edit list, so frames 0-24 are decode-only pre-roll
    clip = clip_factory(seconds=6, fps=FPS, gop=50, bframes=bframes, container="mp4")
    acks = ingest(door, invoke, stream, with_edit_list(clip, 1000, 6000), T0, tmp_path)
    assert door == "drop-zone" or all(a["EventType"] == "PERSISTED" for a in acks)

    # When GetImages samples the producer start and one second later
    numbers = frame_numbers(get_images(invoke, stream, T0, T0 + 1.0, interval_ms=1000))

    # Then the first still is frame 25 (the first frame a player shows), then frame 50
    assert numbers == [25, 50]


@pytest.mark.parametrize("door", DOORS)
def test_trimmed_mp4_ends_at_the_edit(invoke, stream, clip_factory, tmp_path, door):
    # Given a 6 s MP4 whose edit list ends at 4.5 s, so frames 113-149 are decode-only
    clip = clip_factory(seconds=6, fps=FPS, gop=50, container="mp4")
    ingest(door, invoke, stream, with_edit_list(clip, 0, 4500), T0, tmp_path)

    # When GetImages samples around the end; Then the last presented frame is 112, and nothing follows it
    assert frame_numbers(get_images(invoke, stream, T0 + 4.48, T0 + 5.28, interval_ms=400)) == [
        112,
        "NO_MEDIA",
        "NO_MEDIA",
    ]


@pytest.mark.parametrize("door", DOORS)
def test_a_trim_inside_a_gop_at_both_ends(invoke, stream, clip_factory, tmp_path, door):
    # Given what `ffmpeg -ss 1.32 -t 3 -c copy` makes: an edit list from frame 33 (inside the first GOP) to frame 108
    clip = clip_factory(seconds=6, fps=FPS, gop=50, bframes=2, container="mp4")
    ingest(door, invoke, stream, with_edit_list(clip, 1320, 4320), T0, tmp_path)

    # When GetImages samples from the producer start to past the end
    numbers = frame_numbers(get_images(invoke, stream, T0, T0 + 3.4, interval_ms=200))

    # Then the first still is frame 33, each still is 5 frames on, and the trimmed tail is NO_MEDIA
    assert numbers == [*range(33, 108, 5), "NO_MEDIA", "NO_MEDIA", "NO_MEDIA"]
