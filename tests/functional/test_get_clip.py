"""GetClip through the handler: an MP4 of exactly the range, remuxed from stored fragments; its limits and errors."""

from __future__ import annotations

import dataclasses
import json

import pytest

from stillframe.wiring import build
from tests.conftest import T0, Invoker
from tests.support.kvs import put_media
from tests.support.media_out import clip_frames, media_call

LOCAL_ONLY = pytest.mark.parametrize("invoke", ["local"], indirect=True)
FPS = 25


def get_clip(invoke, stream: str, start: float, end: float, selector: str = "PRODUCER_TIMESTAMP"):
    """(status, headers, body bytes) of a GetClip call through the real handler."""
    body = {
        "StreamName": stream,
        "ClipFragmentSelector": {
            "FragmentSelectorType": selector,
            "TimestampRange": {"StartTimestamp": start, "EndTimestamp": end},
        },
    }
    return media_call(invoke, "/getClip", body)


@pytest.fixture
def stream(invoke, clip_factory):
    """12 s of 25 fps video (key frame every 2 s) from producer time T0."""
    invoke("/createStream", {"StreamName": "cam", "DataRetentionInHours": 1})
    put_media(invoke, "cam", clip_factory(seconds=12, fps=FPS, gop=50), T0)
    return "cam"


@LOCAL_ONLY
def test_clip_plays_exactly_the_range_across_fragments(invoke, stream):
    # When a range starting mid-GOP and ending in a later fragment is asked for
    status, headers, mp4 = get_clip(invoke, stream, T0 + 1.1, T0 + 5.5)
    # Then the MP4 presents frames 27 (on screen at 1.1 s) through 137 (starts at 5.48 s), each once, from time 0
    assert status == 200 and headers["content-type"] == "video/mp4"
    frames = clip_frames(mp4)
    assert [n for n, _ in frames] == list(range(27, 138))
    assert [round(t * FPS) for _, t in frames] == list(range(0, 111))


@LOCAL_ONLY
def test_with_b_frames_the_start_is_exact_and_the_end_keeps_what_the_last_frames_need(invoke, clip_factory):
    # Given video with B-frames
    invoke("/createStream", {"StreamName": "bframes", "DataRetentionInHours": 1})
    put_media(invoke, "bframes", clip_factory(seconds=8, fps=FPS, gop=50, bframes=2), T0)
    # When a range is asked for
    status, _, mp4 = get_clip(invoke, "bframes", T0 + 1.1, T0 + 5.5)
    # Then it starts exactly at frame 27, holds 27..137 in order, and after 137 at most the frames they refer to
    numbers = [n for n, _ in clip_frames(mp4)]
    assert status == 200 and numbers[:111] == list(range(27, 138))
    assert numbers == sorted(set(numbers)) and len(numbers) - 111 <= 2


@LOCAL_ONLY
def test_clip_in_server_time_and_at_a_frame_boundary(invoke, stream):
    # Given the server time of the first fragment
    first = invoke("/listFragments", {"StreamName": stream})["body"]["Fragments"]
    server = min(f["ServerTimestamp"] for f in first)
    # When a clip of [server + 2 s, server + 2 s] + 1 ms is asked for in server time
    status, _, mp4 = get_clip(invoke, stream, server + 2.0, server + 2.001, "SERVER_TIMESTAMP")
    # Then it holds exactly the frame starting there
    assert status == 200
    assert [n for n, _ in clip_frames(mp4)] == [50]


@LOCAL_ONLY
def test_range_without_media_is_not_found(invoke, stream):
    status, _, body = get_clip(invoke, stream, T0 + 100, T0 + 200)
    assert status == 404 and json.loads(body)["__type"] == "ResourceNotFoundException"


@LOCAL_ONLY
@pytest.mark.parametrize(
    ("start", "end", "sentence"),
    [(T0 + 5, T0 + 5, "later than"), (T0 + 5, T0 + 1, "later than"), (T0, T0 + 86_401, "24 hours")],
)
def test_bad_ranges_are_refused(invoke, stream, start, end, sentence):
    status, _, body = get_clip(invoke, stream, start, end)
    answer = json.loads(body)
    assert status == 400 and answer["__type"] == "InvalidArgumentException" and sentence in answer["message"]


@LOCAL_ONLY
def test_no_retention_is_refused(invoke):
    invoke("/createStream", {"StreamName": "nothing"})
    status, _, body = get_clip(invoke, "nothing", T0, T0 + 5)
    assert status == 400 and json.loads(body)["__type"] == "NoDataRetentionException"


@LOCAL_ONLY
@pytest.mark.parametrize("seconds", [11, 3])  # refused from the index alone / once the clip is made
def test_a_clip_over_the_size_limit_is_refused_naming_it(invoke, stream, seconds):
    # Given a process over the same store that may answer at most 20,000 bytes of media
    small = Invoker(build(dataclasses.replace(invoke.services.settings, max_media_bytes=20_000)))
    status, _, body = get_clip(small, stream, T0, T0 + seconds)
    answer = json.loads(body)
    assert status == 400 and answer["__type"] == "InvalidArgumentException"
    assert "20,000 bytes" in answer["message"]


@LOCAL_ONLY
def test_a_clip_of_audio_and_video_keeps_its_sound(invoke, clip_factory):
    import io

    import av

    # Given an upload with AAC audio (kept beside the video at ingest)
    invoke("/createStream", {"StreamName": "av", "DataRetentionInHours": 1})
    put_media(invoke, "av", clip_factory(seconds=6, fps=FPS, gop=50, audio=True), T0)
    # When a clip of it is asked for
    status, _, mp4 = get_clip(invoke, "av", T0 + 1.0, T0 + 5.0)
    # Then the MP4 holds the video and the audio, both lasting about the range
    assert status == 200
    with av.open(io.BytesIO(mp4)) as container:
        kinds = {stream.type: stream for stream in container.streams}
        assert set(kinds) == {"video", "audio"} and kinds["audio"].codec_context.name == "aac"
        audio_s = sum(float(p.duration * p.time_base) for p in container.demux(kinds["audio"]) if p.duration)
    assert 3.5 <= audio_s <= 5.5, audio_s
    assert clip_frames(mp4)[0][0] == 25
