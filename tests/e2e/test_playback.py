"""HLS and DASH playback through the deployed API: sessions made by unmodified clients (boto3, the AWS CLI), then
followed as a player follows them, with plain unsigned HTTPS GETs (and ffprobe), through API Gateway to the media
function and S3.

The session URL is the credential: its SessionToken opens the playlists, the manifest and the segments, which the
gateway lets through unsigned in every auth mode. Segments are binary answers crossing API Gateway base64-encoded;
playlists and manifests are text. Every segment is decoded and the frame numbers painted into the clip read back,
so a lost, repeated, damaged or mistimed frame fails the test.

What LocalStack (4.9.2) does not do like AWS here: it enforces no IAM (a POST in the IAM-mode stack is accepted
unsigned too, so only the keys-mode refusals are proven); the playback GETs themselves are unsigned on AWS as well.
"""

from __future__ import annotations

import json
import math
import subprocess
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import boto3
import pytest

from tests.e2e.conftest import (
    CLIP_FPS,
    CLIP_SECONDS,
    CLIP_START,
    Deployment,
    at,
    aws_cli,
    data_client,
    eventually,
    keys_cli,
    new_key,
    put_media,
    refused,
    sdk_client,
    unique_stream,
)
from tests.support.playback import (
    MPD_NS,
    Got,
    decoded_frames,
    hls_segments,
    http_get,
    map_uris,
    media_uri,
    mpd,
    playlist_uris,
)

pytestmark = pytest.mark.e2e

HLS_API = "GET_HLS_STREAMING_SESSION_URL"
DASH_API = "GET_DASH_STREAMING_SESSION_URL"


def selector(kind: str, start_s: float, end_s: float) -> dict[str, Any]:
    time_range = {"StartTimestamp": at(start_s), "EndTimestamp": at(end_s)}
    return {f"{kind}FragmentSelector": {"FragmentSelectorType": "PRODUCER_TIMESTAMP", "TimestampRange": time_range}}


def player(deployment: Deployment):
    """A player's GET: unsigned, no SDK, only the stack's CA to verify HTTPS."""
    return lambda url: _ok(http_get(url, cafile=deployment.ca_bundle))


def _ok(got: Got) -> Got:
    assert got.status == 200, f"{got.status}: {got.body[:300]!r}"
    return got


def fragment_frames(start_s: float, end_s: float, fragment_s: float) -> list[int]:
    """The frame numbers of the clip's fragments that start in ``start_s``..``end_s`` (both included), whole."""
    first = math.ceil(start_s / fragment_s) * fragment_s
    last = min(math.floor(end_s / fragment_s) * fragment_s + fragment_s, CLIP_SECONDS)
    return list(range(round(first * CLIP_FPS), round(last * CLIP_FPS)))


@pytest.fixture(scope="module")
def fragment_s(keys_stack: Deployment, ingested_stream: str) -> float:
    """How long each stored fragment of the ingested clip is (put-media cuts at key frames)."""
    listed = sdk_client(keys_stack, "kinesis-video-archived-media").list_fragments(StreamName=ingested_stream)
    durations = {f["FragmentLengthInMilliseconds"] for f in listed["Fragments"]}
    assert len(durations) == 1, durations
    return durations.pop() / 1000


def hls_session(
    deployment: Deployment,
    stream: str,
    start_s: float,
    end_s: float,
    *,
    access_key: tuple[str, str] | None = None,
    **extra: Any,
) -> str:
    """An ON_DEMAND HLS session URL of clip seconds ``start_s``..``end_s``, made by boto3 as KVS clients make it."""
    archived = data_client(deployment, "kinesis-video-archived-media", stream, HLS_API, access_key=access_key)
    answer = archived.get_hls_streaming_session_url(
        StreamName=stream, PlaybackMode="ON_DEMAND", **selector("HLS", start_s, end_s), **extra
    )
    return str(answer["HLSStreamingSessionURL"])


def test_hls_session_plays_every_frame_of_the_range_over_unsigned_gets(
    keys_stack: Deployment, ingested_stream: str, fragment_s: float
) -> None:
    # Given an HLS session of clip seconds 1..4, made by boto3 at the endpoint GetDataEndpoint names
    url = hls_session(keys_stack, ingested_stream, 1, 4)
    # Then its URL is the master playlist at KVS's path on the deployed API, with a SessionToken
    parts = urlsplit(url)
    assert url.startswith(keys_stack.api_url.rstrip("/") + "/hls/v1/getHLSMasterPlaylist.m3u8?")
    assert parse_qs(parts.query)["SessionToken"]
    # When a player follows it with plain GETs (no signature)
    get = player(keys_stack)
    master = get(url)
    playlist = get(urljoin(url, media_uri(master.text)))
    # Then the playlists are text with HLS's Content-Type, and the media playlist names an init segment
    assert master.headers["content-type"] == playlist.headers["content-type"] == "application/vnd.apple.mpegurl"
    assert master.text.startswith("#EXTM3U") and playlist.text.startswith("#EXTM3U") and map_uris(playlist.text)
    assert "#EXT-X-ENDLIST" in playlist.text
    # And the init + media segments arrive as bytes (fMP4) and play exactly the fragments starting in the range
    _, segments = hls_segments(get, url)
    assert all(segment[4:8] in (b"ftyp", b"styp", b"moof") for segment in segments), [s[:8] for s in segments]
    frames = decoded_frames(b"".join(segments))
    assert [n for n, _ in frames] == fragment_frames(1, 4, fragment_s)
    # at their producer times
    assert [round((t - CLIP_START) * CLIP_FPS) for _, t in frames] == [n for n, _ in frames]


def test_hls_mpeg_ts_session_plays(keys_stack: Deployment, ingested_stream: str, fragment_s: float) -> None:
    url = hls_session(keys_stack, ingested_stream, 0, 2, ContainerFormat="MPEG_TS")
    playlist, segments = hls_segments(player(keys_stack), url)
    # TS segments, no init segment; each a stream of 188-byte packets
    assert not map_uris(playlist) and all(uri.startswith("getTSFragment.ts?") for uri in playlist_uris(playlist))
    assert all(segment[0] == 0x47 and len(segment) % 188 == 0 for segment in segments[1:])
    frames = decoded_frames(b"".join(segments[1:]), fmt="mpegts")
    assert [n for n, _ in frames] == fragment_frames(0, 2, fragment_s)


def test_dash_session_manifest_and_segment_list_play(
    keys_stack: Deployment, ingested_stream: str, fragment_s: float
) -> None:
    # Given a DASH session of the whole clip
    archived = data_client(keys_stack, "kinesis-video-archived-media", ingested_stream, DASH_API)
    url = archived.get_dash_streaming_session_url(
        StreamName=ingested_stream, PlaybackMode="ON_DEMAND", **selector("DASH", 0, CLIP_SECONDS)
    )["DASHStreamingSessionURL"]
    assert urlsplit(url).path.endswith("/dash/v1/getDASHManifest.mpd")
    # When a player reads the manifest, then its SegmentList's init and media segments
    get = player(keys_stack)
    manifest = get(url)
    assert manifest.headers["content-type"] == "application/dash+xml"
    root = mpd(manifest.text)
    (representation,) = root.findall(".//mpd:Representation", MPD_NS)
    segment_list = representation.find("mpd:SegmentList", MPD_NS)
    assert segment_list is not None
    init = segment_list.find("mpd:Initialization", MPD_NS)
    assert init is not None
    media = [s.get("media") or "" for s in segment_list.findall("mpd:SegmentURL", MPD_NS)]
    body = get(urljoin(url, init.get("sourceURL") or "")).body + b"".join(get(urljoin(url, m)).body for m in media)
    # Then every frame of the clip plays once, in order, at its time
    frames = decoded_frames(body)
    assert [n for n, _ in frames] == list(range(CLIP_SECONDS * CLIP_FPS))
    assert [round((t - CLIP_START) * CLIP_FPS) for _, t in frames] == list(range(CLIP_SECONDS * CLIP_FPS))


def test_tampered_or_missing_token_is_refused_and_cors_answers(keys_stack: Deployment, ingested_stream: str) -> None:
    url = hls_session(keys_stack, ingested_stream, 0, 2)
    token = parse_qs(urlsplit(url).query)["SessionToken"][0]
    # A token altered by one character: 401 NotAuthorizedException, from the function (the gateway let it through)
    flipped = token[:30] + ("A" if token[30] != "A" else "B") + token[31:]
    tampered = http_get(url.replace(token, flipped), cafile=keys_stack.ca_bundle)
    assert tampered.status == 401
    assert tampered.headers["x-amzn-errortype"].split(":")[0] == "NotAuthorizedException"
    assert json.loads(tampered.body)["__type"] == "NotAuthorizedException"
    # No token at all: 400, saying what is missing
    missing = http_get(url.split("?")[0], cafile=keys_stack.ca_bundle)
    assert missing.status == 400 and b"SessionToken is required" in missing.body
    # A page's player (any origin) may read the answers, and its preflight is answered for GET
    page = {"Origin": "https://player.example.com"}
    assert _ok(http_get(url, page, cafile=keys_stack.ca_bundle)).headers["access-control-allow-origin"] == "*"
    preflight = http_get(
        url, {**page, "Access-Control-Request-Method": "GET"}, cafile=keys_stack.ca_bundle, method="OPTIONS"
    )
    assert preflight.status == 200 and preflight.headers["access-control-allow-origin"] == "*"
    assert preflight.headers["access-control-allow-methods"] == "GET"


def test_aws_cli_session_url_plays(keys_stack: Deployment, ingested_stream: str, fragment_s: float) -> None:
    # Given the unmodified AWS CLI (here the API is the endpoint: GetDataEndpoint answers the same URL)
    answer = aws_cli(
        keys_stack,
        "kinesis-video-archived-media",
        "get-hls-streaming-session-url",
        "--stream-name", ingested_stream,
        "--playback-mode", "ON_DEMAND",
        "--hls-fragment-selector", json.dumps(_cli_selector(2, 3)),
    )  # fmt: skip
    # Then the URL it prints plays
    _, segments = hls_segments(player(keys_stack), answer["HLSStreamingSessionURL"])
    assert [n for n, _ in decoded_frames(b"".join(segments))] == fragment_frames(2, 3, fragment_s)


def _cli_selector(start_s: float, end_s: float) -> dict[str, Any]:
    time_range = {"StartTimestamp": CLIP_START + start_s, "EndTimestamp": CLIP_START + end_s}
    return {"FragmentSelectorType": "PRODUCER_TIMESTAMP", "TimestampRange": time_range}


def test_ffprobe_reads_every_frame_from_the_session_url(
    keys_stack: Deployment, ingested_stream: str, fragment_s: float
) -> None:
    # Given an HLS session of the whole clip, and FFmpeg's own HLS client verifying TLS with the stack's CA
    url = hls_session(keys_stack, ingested_stream, 0, CLIP_SECONDS)
    command = ["ffprobe", "-v", "error", "-ca_file", keys_stack.ca_bundle, "-tls_verify", "1"]
    command += ["-select_streams", "v", "-show_entries", "frame=pts_time", "-of", "json", url]
    # When it reads the stream through the master playlist
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr
    times = [float(frame["pts_time"]) for frame in json.loads(result.stdout)["frames"]]
    # Then it finds every frame, 1/25 s apart, from the clip's first producer time to its last
    assert len(times) == CLIP_SECONDS * CLIP_FPS
    assert times[0] == pytest.approx(CLIP_START, abs=0.001)
    assert times[-1] == pytest.approx(CLIP_START + (CLIP_SECONDS * CLIP_FPS - 1) / CLIP_FPS, abs=0.001)


def test_keys_mode_sessions_follow_the_key(
    keys_stack: Deployment, ingested_stream: str, clip_file, cleanup_streams: list[str]
) -> None:
    # Given a key limited to streams named cam-..., and a stream of its own holding the clip
    key = new_key(keys_stack, "--stream-prefix", "cam-")
    own = unique_stream("cam-")
    cleanup_streams.append(own)
    env = keys_stack.client_env(AWS_ACCESS_KEY_ID=key[0], AWS_SECRET_ACCESS_KEY=key[1])
    eventually(lambda: _put(keys_stack, own, clip_file, env), timeout_s=30, what="the new key could not put media")
    # When it asks for a session of its own stream, the session plays
    url = hls_session(keys_stack, own, 0, 2, access_key=key)
    _, segments = hls_segments(player(keys_stack), url)
    assert [n for n, _ in decoded_frames(b"".join(segments))][:CLIP_FPS] == list(range(CLIP_FPS))
    # And a session of another stream is refused when asked for (GetDataEndpoint refuses it too), before any URL
    archived = sdk_client(keys_stack, "kinesis-video-archived-media", access_key=key)
    request = {"StreamName": ingested_stream, "PlaybackMode": "ON_DEMAND", **selector("HLS", 0, 2)}
    assert "cam-" in refused(lambda: archived.get_hls_streaming_session_url(**request))
    assert "cam-" in refused(lambda: hls_session(keys_stack, ingested_stream, 0, 2, access_key=key))
    # And once the key is revoked, its session's URL stops working (within the key cache)
    keys_cli(keys_stack, "revoke", key[0])
    get = lambda: http_get(url, cafile=keys_stack.ca_bundle)  # noqa: E731
    eventually(lambda: get().status == 401, timeout_s=30, what="a revoked key's session still played")
    assert get().headers["x-amzn-errortype"].split(":")[0] == "NotAuthorizedException"
    assert b"no longer active" in get().body


def _put(deployment: Deployment, stream: str, clip, env: dict[str, str]) -> bool:
    try:
        put_media(deployment, stream, clip, "--signing-name", "kinesisvideo", env=env)
    except AssertionError as failed:
        if "NotAuthorized" in str(failed):
            return False
        raise
    return True


def test_iam_mode_session_plays_unsigned(iam_stack: Deployment, clip_file) -> None:
    from stillframe.client import clients

    # Given a stream in the IAM-mode stack, and a session made by stillframe.client (signed for execute-api)
    stream = unique_stream("iam-play")
    env = iam_stack.client_env(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test")
    put_media(iam_stack, stream, clip_file, "--signing-name", "execute-api", env=env)
    session = boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name=iam_stack.region)
    kinesisvideo, archived = clients(
        iam_stack.api_url, session=session, signing_name="execute-api", ca_bundle=iam_stack.ca_bundle
    )
    url = archived.get_hls_streaming_session_url(StreamName=stream, PlaybackMode="ON_DEMAND", **selector("HLS", 0, 2))[
        "HLSStreamingSessionURL"
    ]
    # Then a player's unsigned GETs play it (the gateway authorizes no playback GET: the token does)
    _, segments = hls_segments(player(iam_stack), url)
    assert [n for n, _ in decoded_frames(b"".join(segments))][:CLIP_FPS] == list(range(CLIP_FPS))
    kinesisvideo.delete_stream(StreamARN=kinesisvideo.describe_stream(StreamName=stream)["StreamInfo"]["StreamARN"])
