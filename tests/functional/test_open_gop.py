"""Open GOPs: every frame shown before a key frame but decoded after it (x265 CRA + RASL, x264 open-gop) is served.

At 5 fps one 200 ms sampling interval is one frame, so one page reads every frame of the clip back; fragments
(2 s) are cut exactly at open key frames, and every door is checked, as the put-media client cuts again.
"""

from __future__ import annotations

import pytest

from tests.conftest import T0
from tests.support.doors import DOORS, ingest
from tests.support.gops import leading_counts
from tests.support.kvs import frame_numbers, get_images

FPS = 5
FRAMES = 24  # three 8-frame GOPs = 4.8 s: fragments cut at both open key frames


@pytest.fixture
def stream(invoke):
    invoke("/createStream", {"StreamName": "cam", "DataRetentionInHours": 24})
    return "cam"


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize(("codec", "container"), [("hevc", "mp4"), ("h264", "mpegts"), ("hevc", "matroska")])
def test_every_frame_of_an_open_gop_clip_is_served(invoke, stream, clip_factory, tmp_path, door, codec, container):
    # Given an open-GOP clip (B-frames before each later key frame reference the GOP before it)
    clip = clip_factory(
        frames=FRAMES,
        fps=FPS,
        gop=8,
        bframes=3,
        codec=codec,
        width=160,
        height=96,
        container=container,
        encoder_params="open-gop=1",
    )
    assert sum(leading_counts(clip)) >= 4  # the case is real: several leading pictures at both later key frames
    ingest(door, invoke, stream, clip, T0, tmp_path)

    # When every frame's time is sampled, and the time after the last frame
    page = get_images(invoke, stream, T0, T0 + FRAMES / FPS, interval_ms=1000 // FPS, MaxResults=25)

    # Then each sample shows its own frame, none is a MEDIA_ERROR, and nothing follows the clip
    assert frame_numbers(page) == [*range(FRAMES), "NO_MEDIA"]
