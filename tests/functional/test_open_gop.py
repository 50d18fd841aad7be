"""Open GOPs: every frame shown before a key frame but decoded after it (x265 CRA + RASL, x264 open-gop) is served.

At 5 fps one 200 ms sampling interval is one frame, so one page reads every frame of the clip back; fragments
(2 s) are cut exactly at open key frames, and every door is checked, as the put-media client cuts again.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import T0
from tests.support.doors import DOORS, ingest
from tests.support.gops import leading_counts
from tests.support.kvs import frame_numbers, get_images

FPS = 5
FRAMES = 24  # three 8-frame GOPs = 4.8 s: fragments cut at both open key frames


def open_gop_clip(clip_factory, codec: str, container: str) -> bytes:
    """Three 8-frame open GOPs (B-frames before each later key frame reference the GOP before it)."""
    return clip_factory(
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


@pytest.fixture
def stream(invoke):
    invoke("/createStream", {"StreamName": "cam", "DataRetentionInHours": 24})
    return "cam"


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize(("codec", "container"), [("hevc", "mp4"), ("h264", "mpegts"), ("hevc", "matroska")])
def test_every_frame_of_an_open_gop_clip_is_served(invoke, stream, clip_factory, tmp_path, door, codec, container):
    # Given an open-GOP clip (B-frames before each later key frame reference the GOP before it)
    clip = open_gop_clip(clip_factory, codec, container)
    assert sum(leading_counts(clip)) >= 4  # the case is real: several leading pictures at both later key frames
    ingest(door, invoke, stream, clip, T0, tmp_path)

    # When every frame's time is sampled, and the time after the last frame
    page = get_images(invoke, stream, T0, T0 + FRAMES / FPS, interval_ms=1000 // FPS, MaxResults=25)

    # Then each sample shows its own frame, none is a MEDIA_ERROR, and nothing follows the clip
    assert frame_numbers(page) == [*range(FRAMES), "NO_MEDIA"]


@pytest.mark.parametrize("invoke", ["local"], indirect=True)
@pytest.mark.parametrize("codec", ["h264", "hevc"])
def test_clips_and_playback_segments_keep_every_frame_across_open_key_frames(invoke, stream, clip_factory, codec):
    # Given an open-GOP clip whose fragments were cut before open key frames (their leading pictures and a decode-only
    # copy of the key frame end the fragment before)
    from urllib.parse import urljoin

    from tests.support.media_out import clip_frames, media_call
    from tests.support.playback import decoded_frames, handler_get, media_uri, playlist_uris

    clip = open_gop_clip(clip_factory, codec, "matroska")
    assert sum(leading_counts(clip)) >= 4
    ingest("body", invoke, stream, clip, T0, Path())
    selector = {
        "FragmentSelectorType": "PRODUCER_TIMESTAMP",
        "TimestampRange": {"StartTimestamp": T0, "EndTimestamp": T0 + 5},
    }
    # When the whole range is asked for as a clip / Then every frame is in it, once, at its time
    status, _, mp4 = media_call(invoke, "/getClip", {"StreamName": stream, "ClipFragmentSelector": selector})
    assert status == 200, mp4[:300]
    frames = clip_frames(mp4)
    assert [n for n, _ in frames] == list(range(FRAMES))
    assert [round(t * FPS) for _, t in frames] == list(range(FRAMES))
    # And an HLS session plays every frame once, each at its time, decoded as a player appends the segments
    body = {"StreamName": stream, "PlaybackMode": "ON_DEMAND", "HLSFragmentSelector": selector}
    url = invoke("/getHLSStreamingSessionURL", body)["body"]["HLSStreamingSessionURL"]
    playlist_url = urljoin(url, media_uri(handler_get(invoke, url).text))
    playlist = handler_get(invoke, playlist_url).text
    init = handler_get(invoke, urljoin(playlist_url, playlist.split('URI="')[1].split('"')[0])).body
    segments = [handler_get(invoke, urljoin(playlist_url, uri)).body for uri in playlist_uris(playlist)]
    played = decoded_frames(init + b"".join(segments))
    assert [n for n, _ in played] == list(range(FRAMES))
    assert [round((t - T0) * FPS) for _, t in played] == list(range(FRAMES))


@pytest.mark.parametrize("invoke", ["local"], indirect=True)
def test_mpeg_ts_segments_keep_every_frame_across_open_key_frames(invoke, stream, clip_factory):
    from urllib.parse import urljoin

    from tests.support.playback import decoded_frames, handler_get, media_uri, playlist_uris

    clip = open_gop_clip(clip_factory, "h264", "matroska")
    ingest("body", invoke, stream, clip, T0, Path())
    selector = {
        "FragmentSelectorType": "PRODUCER_TIMESTAMP",
        "TimestampRange": {"StartTimestamp": T0, "EndTimestamp": T0 + 5},
    }
    body = {
        "StreamName": stream,
        "PlaybackMode": "ON_DEMAND",
        "HLSFragmentSelector": selector,
        "ContainerFormat": "MPEG_TS",
    }
    url = invoke("/getHLSStreamingSessionURL", body)["body"]["HLSStreamingSessionURL"]
    playlist_url = urljoin(url, media_uri(handler_get(invoke, url).text))
    uris = playlist_uris(handler_get(invoke, playlist_url).text)
    played = decoded_frames(
        b"".join(handler_get(invoke, urljoin(playlist_url, uri)).body for uri in uris), fmt="mpegts"
    )
    assert [n for n, _ in played] == list(range(FRAMES))
