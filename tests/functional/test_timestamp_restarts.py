"""Timestamps that restart within one upload (`cat a.ts b.ts`): the later part continues the timeline, in file order."""

from __future__ import annotations

import pytest

from tests.conftest import T0
from tests.support.doors import DOORS, ingest
from tests.support.kvs import frame_numbers, get_images

FPS = 25


@pytest.fixture
def stream(invoke):
    invoke("/createStream", {"StreamName": "cam", "DataRetentionInHours": 24})
    return "cam"


@pytest.fixture
def joined(clip_factory) -> bytes:
    """Two 2 s MPEG-TS segments whose timestamps both start at zero: frames 0-49, then frames 50-99."""
    first = clip_factory(frames=50, fps=FPS, gop=25, width=160, height=96, container="mpegts")
    second = clip_factory(
        frames=50, fps=FPS, gop=25, width=160, height=96, container="mpegts", start_number=50, first_pts=0
    )
    return first + second


@pytest.mark.parametrize("door", DOORS)
def test_joined_segments_play_one_after_the_other(invoke, stream, joined, tmp_path, door):
    # Given two joined segments, ingested through one door
    acks = ingest(door, invoke, stream, joined, T0, tmp_path)
    assert door == "drop-zone" or all(a["EventType"] == "PERSISTED" for a in acks)

    # When GetImages samples 4 s, and just after
    numbers = frame_numbers(get_images(invoke, stream, T0, T0 + 4.2, interval_ms=300))

    # Then the first segment comes first and the second continues right after it; nothing is stored on top
    assert numbers == [t * FPS // 1000 for t in range(0, 4000, 300)] + ["NO_MEDIA"]
