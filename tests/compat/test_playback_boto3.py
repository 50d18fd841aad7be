"""Unmodified boto3 against a real `stillframe serve`: HLS and DASH session URLs that an unsigned HTTP client (a
player) follows to every frame; the browser rules on the playback GETs."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urljoin

import boto3
import pytest
from botocore.config import Config

from tests.conftest import T0
from tests.support.playback import decoded_frames, hls_segments, http_get, mpd
from tests.support.serve import put_media_cli

CREDS = {"aws_access_key_id": "test", "aws_secret_access_key": "test", "region_name": "us-east-1"}
NO_RETRY = Config(retries={"max_attempts": 1, "mode": "standard"})
STREAM = "playback"


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(T0 + seconds, UTC)


@pytest.fixture(scope="module")
def archived(server, clip_factory, tmp_path_factory):
    """An archived-media client at the GET_HLS_STREAMING_SESSION_URL endpoint of 6 s of video (with audio)."""
    clip = tmp_path_factory.mktemp("playback") / "clip.mp4"
    clip.write_bytes(clip_factory(seconds=6, fps=25, gop=50, container="mp4", audio=True))
    put_media_cli(server, STREAM, str(clip), "--retention-hours", "2", "--producer-start-time", str(T0))
    control = boto3.client("kinesisvideo", endpoint_url=server, config=NO_RETRY, **CREDS)
    endpoint = control.get_data_endpoint(StreamName=STREAM, APIName="GET_HLS_STREAMING_SESSION_URL")["DataEndpoint"]
    return boto3.client("kinesis-video-archived-media", endpoint_url=endpoint, config=NO_RETRY, **CREDS)


def on_demand(start: float, end: float) -> dict:
    return {
        "FragmentSelectorType": "PRODUCER_TIMESTAMP",
        "TimestampRange": {"StartTimestamp": at(start), "EndTimestamp": at(end)},
    }


def test_an_hls_session_url_plays_over_plain_http(archived, server):
    url = archived.get_hls_streaming_session_url(
        StreamName=STREAM, PlaybackMode="ON_DEMAND", HLSFragmentSelector=on_demand(0, 6)
    )["HLSStreamingSessionURL"]
    assert url.startswith(server + "/hls/v1/getHLSMasterPlaylist.m3u8?SessionToken=")
    _, segments = hls_segments(lambda u: http_get(u), url)
    assert [n for n, _ in decoded_frames(b"".join(segments))] == list(range(150))
    assert http_get(url).headers["content-type"] == "application/vnd.apple.mpegurl"


def test_a_dash_session_url_plays_over_plain_http(archived):
    url = archived.get_dash_streaming_session_url(
        StreamName=STREAM, PlaybackMode="ON_DEMAND", DASHFragmentSelector=on_demand(2, 6)
    )["DASHStreamingSessionURL"]
    root = mpd(http_get(url).text)
    ns = {"m": "urn:mpeg:dash:schema:mpd:2011"}
    video = next(
        s for s in root.iter("{urn:mpeg:dash:schema:mpd:2011}AdaptationSet") if s.get("contentType") == "video"
    )
    init = video.find(".//m:Initialization", ns).get("sourceURL")
    media = [s.get("media") for s in video.findall(".//m:SegmentURL", ns)]
    body = http_get(urljoin(url, init)).body + b"".join(http_get(urljoin(url, m)).body for m in media)
    assert [n for n, _ in decoded_frames(body)] == list(range(50, 150))
    audio = [s for s in root.iter("{urn:mpeg:dash:schema:mpd:2011}AdaptationSet") if s.get("contentType") == "audio"]
    assert len(audio) == 1


def test_session_errors_raise_their_classes(archived):
    with pytest.raises(archived.exceptions.ResourceNotFoundException):
        archived.get_hls_streaming_session_url(
            StreamName=STREAM, PlaybackMode="ON_DEMAND", HLSFragmentSelector=on_demand(1000, 1001)
        )
    with pytest.raises(archived.exceptions.InvalidArgumentException):
        archived.get_dash_streaming_session_url(StreamName=STREAM, PlaybackMode="ON_DEMAND")


def test_playback_gets_follow_the_browser_rules(archived):
    url = archived.get_hls_streaming_session_url(
        StreamName=STREAM, PlaybackMode="ON_DEMAND", HLSFragmentSelector=on_demand(0, 2)
    )["HLSStreamingSessionURL"]
    # A player page on another loopback port reads the playlist (CORS as KVS answers it)
    allowed = http_get(url, {"Origin": "http://127.0.0.1:9"})
    assert allowed.status == 200 and allowed.headers["access-control-allow-origin"] == "http://127.0.0.1:9"
    # A page of a foreign site is refused by a serve without auth (it could be a DNS-rebinding page)
    refused = http_get(url, {"Origin": "https://evil.example"})
    assert refused.status == 403
    # And a tampered token is refused
    assert http_get(url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")).status == 401
