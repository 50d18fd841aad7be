"""HLS and DASH playback sessions through the handler: the session URL, what it leads to, and every refusal.

A player's path is followed as a player follows it (``tests.support.playback``): session URL -> master playlist ->
media playlist -> init + media segments (or TS segments), or session URL -> manifest -> segments; the segments are
decoded with PyAV and every frame's painted number and time checked.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest

from stillframe.wiring import build
from tests.conftest import T0, Invoker
from tests.support.kvs import put_media
from tests.support.playback import (
    KVS_NS,
    MPD_NS,
    audio_seconds,
    decoded_frames,
    handler_get,
    hls_segments,
    map_uris,
    media_uri,
    mpd,
    playlist_uris,
    tag_values,
)

LOCAL_ONLY = pytest.mark.parametrize("invoke", ["local"], indirect=True)  # the others run on LocalStack S3 too
FPS = 25


def hls_url(invoke, stream: str, mode: str = "ON_DEMAND", start=None, end=None, **extra) -> dict:
    body = {"StreamName": stream, "PlaybackMode": mode, **extra}
    if start is not None:
        time_range = {"StartTimestamp": start} | ({"EndTimestamp": end} if end is not None else {})
        body["HLSFragmentSelector"] = {"FragmentSelectorType": "PRODUCER_TIMESTAMP", "TimestampRange": time_range}
    return invoke("/getHLSStreamingSessionURL", body)


def dash_url(invoke, stream: str, start: float, end: float, **extra) -> dict:
    body = {
        "StreamName": stream,
        "PlaybackMode": "ON_DEMAND",
        "DASHFragmentSelector": {
            "FragmentSelectorType": "PRODUCER_TIMESTAMP",
            "TimestampRange": {"StartTimestamp": start, "EndTimestamp": end},
        },
        **extra,
    }
    return invoke("/getDASHStreamingSessionURL", body)


def clocked(tmp_path, monkeypatch, now: list[float], **settings) -> Invoker:
    """The handler over a fresh local store, with a clock the test moves (``now[0]``, epoch seconds)."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    from stillframe.settings import Settings

    config = Settings(store="local", data_dir=str(tmp_path / "data"), token_secret="test-secret", **settings)
    return Invoker(build(config, clock=lambda: now[0]))


@pytest.fixture
def stream(invoke, clip_factory):
    """12 s of 25 fps video, a key frame every 2 s (six 2 s fragments), from producer time T0."""
    invoke("/createStream", {"StreamName": "cam", "DataRetentionInHours": 1})
    put_media(invoke, "cam", clip_factory(seconds=12, fps=FPS, gop=50), T0)
    return "cam"


def get(invoke):
    return lambda url: handler_get(invoke, url)


def test_hls_on_demand_plays_every_frame_of_the_range_at_its_time(invoke, stream):
    # When an ON_DEMAND session of 2 s..8 s is asked for
    answer = hls_url(invoke, stream, start=T0 + 2, end=T0 + 8)
    url = answer["body"]["HLSStreamingSessionURL"]
    # Then its URL is the master playlist at KVS's path, on the endpoint called, with a session token
    parts = urlsplit(url)
    assert answer["status"] == 200
    assert parts.netloc == "abc123defg.execute-api.us-east-1.amazonaws.com"
    assert parts.path == "/prod/hls/v1/getHLSMasterPlaylist.m3u8" and parse_qs(parts.query)["SessionToken"]
    # And the media playlist lists the four fragments starting in [2 s, 8 s], ends, is VOD
    playlist, segments = hls_segments(get(invoke), url)
    assert len(playlist_uris(playlist)) == 4 and "#EXT-X-ENDLIST" in playlist
    assert tag_values(playlist, "#EXT-X-PLAYLIST-TYPE") == ["VOD"]
    assert [float(v.rstrip(",")) for v in tag_values(playlist, "#EXTINF")] == [2.0, 2.0, 2.0, 2.0]
    # And init + segments play frames 50..249, each once, at producer time (epoch seconds) exactly
    frames = decoded_frames(b"".join(segments))
    assert [n for n, _ in frames] == list(range(50, 250))
    assert [round((t - T0) * FPS) for _, t in frames] == list(range(50, 250))


def test_hls_master_names_codecs_resolution_and_the_audio_rendition(invoke, clip_factory):
    invoke("/createStream", {"StreamName": "av", "DataRetentionInHours": 1})
    put_media(invoke, "av", clip_factory(seconds=6, fps=FPS, gop=50, audio=True), T0)
    url = hls_url(invoke, "av", start=T0, end=T0 + 6)["body"]["HLSStreamingSessionURL"]
    master = handler_get(invoke, url).text
    # The variant names H.264 and AAC LC, the picture size, and an audio group with its own playlist
    assert 'CODECS="avc1.' in master and "mp4a.40.2" in master and "RESOLUTION=320x240" in master
    assert 'AUDIO="audio"' in master and "TrackNumber=2" in media_uri(master, "audio")
    # The audio playlist's segments decode to the audio of the whole 6 s
    _, audio = hls_segments(get(invoke), url, "audio")
    assert 5.8 <= audio_seconds(b"".join(audio)) <= 6.2
    # And the video playlist still plays every frame
    _, video = hls_segments(get(invoke), url)
    assert [n for n, _ in decoded_frames(b"".join(video))] == list(range(150))


@LOCAL_ONLY
def test_hls_mpeg_ts_segments_carry_the_frames(invoke, stream):
    url = hls_url(invoke, stream, start=T0, end=T0 + 4, ContainerFormat="MPEG_TS")["body"]["HLSStreamingSessionURL"]
    playlist, segments = hls_segments(get(invoke), url)
    uris = playlist_uris(playlist)
    # EndTimestamp is inclusive: the fragment starting at 4 s is in
    assert len(uris) == 3 and all(uri.startswith("getTSFragment.ts?") for uri in uris) and not map_uris(playlist)
    assert tag_values(playlist, "#EXT-X-VERSION") == ["3"]
    frames = decoded_frames(b"".join(segments[1:]), fmt="mpegts")
    assert [n for n, _ in frames] == list(range(150))


@LOCAL_ONLY
def test_b_frames_keep_their_order(invoke, clip_factory):
    invoke("/createStream", {"StreamName": "bf", "DataRetentionInHours": 1})
    put_media(invoke, "bf", clip_factory(seconds=6, fps=FPS, gop=50, bframes=2), T0)
    url = hls_url(invoke, "bf", start=T0, end=T0 + 6)["body"]["HLSStreamingSessionURL"]
    _, segments = hls_segments(get(invoke), url)
    frames = decoded_frames(b"".join(segments))
    assert [n for n, _ in frames] == list(range(150))
    assert [round((t - T0) * FPS) for _, t in frames] == list(range(150))


def test_dash_manifest_times_every_fragment_and_its_segments_play(invoke, stream):
    answer = dash_url(invoke, stream, T0, T0 + 12, DisplayFragmentNumber="ALWAYS", DisplayFragmentTimestamp="ALWAYS")
    url = answer["body"]["DASHStreamingSessionURL"]
    assert urlsplit(url).path == "/prod/dash/v1/getDASHManifest.mpd"
    got = handler_get(invoke, url)
    assert got.status == 200 and got.headers["content-type"] == "application/dash+xml"
    root = mpd(got.text)
    assert root.get("type") == "static"
    (representation,) = root.findall(".//mpd:Representation", MPD_NS)
    timeline = representation.findall(".//mpd:S", MPD_NS)
    assert [int(s.get("t")) for s in timeline] == [T0 * 1000 + 2000 * i for i in range(6)]
    assert all(s.get("d") == "2000" and s.get(f"{{{KVS_NS}}}ts") == s.get("t") for s in timeline)
    assert all(s.get(f"{{{KVS_NS}}}fn", "").isdigit() for s in timeline)
    segment_list = representation.find("mpd:SegmentList", MPD_NS)
    init = segment_list.find("mpd:Initialization", MPD_NS).get("sourceURL")
    media = [s.get("media") for s in segment_list.findall("mpd:SegmentURL", MPD_NS)]
    body = handler_get(invoke, urljoin(url, init)).body + b"".join(
        handler_get(invoke, urljoin(url, m)).body for m in media
    )
    frames = decoded_frames(body)
    assert [n for n, _ in frames] == list(range(300))
    assert [round((t - T0) * FPS) for _, t in frames] == list(range(300))


@LOCAL_ONLY
def test_discontinuity_modes_and_program_date_time(invoke, clip_factory):
    invoke("/createStream", {"StreamName": "gap", "DataRetentionInHours": 1})
    put_media(invoke, "gap", clip_factory(seconds=4, fps=FPS, gop=50), T0)
    put_media(invoke, "gap", clip_factory(seconds=4, fps=FPS, gop=50, start_number=100), T0 + 10)  # a 6 s gap

    def playlist(mode: str) -> str:
        url = hls_url(invoke, "gap", start=T0, end=T0 + 20, DiscontinuityMode=mode, DisplayFragmentTimestamp="ALWAYS")
        master_url = url["body"]["HLSStreamingSessionURL"]
        return handler_get(invoke, urljoin(master_url, media_uri(handler_get(invoke, master_url).text))).text

    def marks(text: str) -> list[bool]:  # per segment: is a discontinuity marked before it
        out, pending = [], False
        for line in text.splitlines():
            pending = pending or line == "#EXT-X-DISCONTINUITY"
            if line and not line.startswith("#"):
                out.append(pending)
                pending = False
        return out

    assert marks(playlist("ON_DISCONTINUITY")) == [False, False, True, False]
    assert marks(playlist("ALWAYS")) == [True, True, True, True]
    text = playlist("NEVER")
    assert marks(text) == [False] * 4
    assert tag_values(text, "#EXT-X-PROGRAM-DATE-TIME")[2] == time.strftime(
        "%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(T0 + 10)
    )


@LOCAL_ONLY
def test_max_results_bounds_the_on_demand_playlist(invoke, stream):
    url = hls_url(invoke, stream, start=T0, end=T0 + 12, MaxMediaPlaylistFragmentResults=2)
    playlist, _ = hls_segments(get(invoke), url["body"]["HLSStreamingSessionURL"])
    assert len(playlist_uris(playlist)) == 2


@LOCAL_ONLY
@pytest.mark.parametrize(
    ("body", "status", "error", "words"),
    [
        ({"PlaybackMode": "ON_DEMAND"}, 400, "InvalidArgumentException", "HLSFragmentSelector.TimestampRange.Start"),
        (
            {"PlaybackMode": "ON_DEMAND", "HLSFragmentSelector": {"TimestampRange": {"StartTimestamp": T0}}},
            400,
            "InvalidArgumentException",
            "EndTimestamp is required",
        ),
        (
            {"PlaybackMode": "LIVE", "HLSFragmentSelector": {"TimestampRange": {"StartTimestamp": T0}}},
            400,
            "InvalidArgumentException",
            "must not be set when PlaybackMode is LIVE",
        ),
        ({"Expires": 299}, 400, "InvalidArgumentException", "Expires"),
        ({"MaxMediaPlaylistFragmentResults": 5001}, 400, "InvalidArgumentException", "MaxMediaPlaylistFragmentResults"),
        ({"ContainerFormat": "MKV"}, 400, "InvalidArgumentException", "ContainerFormat"),
        (
            {
                "PlaybackMode": "ON_DEMAND",
                "HLSFragmentSelector": {
                    "FragmentSelectorType": "PRODUCER_TIMESTAMP",
                    "TimestampRange": {"StartTimestamp": T0 + 100, "EndTimestamp": T0 + 200},
                },
            },
            404,
            "ResourceNotFoundException",
            "No fragments found",
        ),
    ],
)
def test_session_refusals(invoke, stream, body, status, error, words):
    answer = invoke("/getHLSStreamingSessionURL", {"StreamName": stream, **body})
    assert answer["status"] == status, answer
    assert answer["headers"]["x-amzn-ErrorType"].startswith(error)
    assert words in answer["body"]["message"]


@LOCAL_ONLY
def test_no_retention_and_unknown_stream(invoke):
    invoke("/createStream", {"StreamName": "none", "DataRetentionInHours": 0})
    answer = hls_url(invoke, "none", mode="LIVE")
    assert answer["status"] == 400 and answer["headers"]["x-amzn-ErrorType"].startswith("NoDataRetentionException")
    answer = dash_url(invoke, "nobody", T0, T0 + 1)
    assert answer["status"] == 404 and answer["headers"]["x-amzn-ErrorType"].startswith("ResourceNotFoundException")


def test_tampered_foreign_and_missing_tokens_are_refused(invoke, stream):
    url = hls_url(invoke, stream, start=T0, end=T0 + 4)["body"]["HLSStreamingSessionURL"]
    token = parse_qs(urlsplit(url).query)["SessionToken"][0]
    flipped = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    refused = handler_get(invoke, url.replace(token, flipped))
    assert refused.status == 401 and b"NotAuthorizedException" in refused.body + str(refused.headers).encode()
    # An HLS token does not open the DASH manifest
    dash = url.replace("/hls/v1/getHLSMasterPlaylist.m3u8", "/dash/v1/getDASHManifest.mpd")
    assert handler_get(invoke, dash).status == 401
    missing = handler_get(invoke, url.split("?")[0])
    assert missing.status == 400 and b"SessionToken is required" in missing.body
    # A fragment outside the session's range is not served by its token
    outside = urljoin(url, f"getMP4MediaFragment.mp4?FragmentNumber=1&SessionToken={token}")
    assert handler_get(invoke, outside).status == 404


@LOCAL_ONLY
def test_a_playlist_over_the_answer_cap_is_refused_saying_what_to_ask_for(invoke, stream):
    # Given a process over the same store that may answer at most 2,000 bytes (Lambda: 4,706,379)
    url = hls_url(invoke, stream, start=T0, end=T0 + 12)["body"]["HLSStreamingSessionURL"]
    tiny = Invoker(build(dataclasses.replace(invoke.services.settings, max_media_bytes=2_000)))
    # When a player reads the master playlist (small), then the media playlist (each URI carries the token)
    master = handler_get(tiny, url)
    too_long = handler_get(tiny, urljoin(url, media_uri(master.text)))
    # Then the media playlist is refused whole with a 400 naming the limit and the field that bounds it
    assert master.status == 200
    assert too_long.status == 400 and b"InvalidArgumentException" in too_long.body
    assert b"over the 2,000 bytes" in too_long.body and b"MaxMediaPlaylistFragmentResults" in too_long.body


def test_sessions_expire_and_end_with_their_stream(tmp_path, clip_factory, monkeypatch):
    now = [float(T0 + 60)]
    invoke = clocked(tmp_path, monkeypatch, now)
    invoke("/createStream", {"StreamName": "cam", "DataRetentionInHours": 1})
    put_media(invoke, "cam", clip_factory(seconds=4, fps=FPS, gop=50), T0)
    url = hls_url(invoke, "cam", start=T0, end=T0 + 4, Expires=300)["body"]["HLSStreamingSessionURL"]
    assert handler_get(invoke, url).status == 200
    now[0] += 301
    expired = handler_get(invoke, url)
    assert expired.status == 401 and b"expired" in expired.body
    # A new session works until the stream is deleted and re-created under the same name
    url = hls_url(invoke, "cam", start=T0, end=T0 + 4)["body"]["HLSStreamingSessionURL"]
    arn = invoke("/describeStream", {"StreamName": "cam"})["body"]["StreamInfo"]["StreamARN"]
    invoke("/deleteStream", {"StreamARN": arn})
    invoke("/createStream", {"StreamName": "cam", "DataRetentionInHours": 1})
    gone = handler_get(invoke, url)
    assert gone.status == 404 and b"no longer exists" in gone.body


def live_stream(tmp_path, monkeypatch) -> tuple[Invoker, list[float]]:
    """A local store whose clock the test sets (``now[0]``, epoch s), with the stream "live" in it."""
    now = [float(T0)]
    invoke = clocked(tmp_path, monkeypatch, now)
    invoke("/createStream", {"StreamName": "live", "DataRetentionInHours": 1})
    return invoke, now


def test_live_lists_the_newest_fragments_and_numbers_them_for_the_whole_session(tmp_path, clip_factory, monkeypatch):
    invoke, now = live_stream(tmp_path, monkeypatch)
    refused = hls_url(invoke, "live", mode="LIVE")  # nothing in the last 30 s
    assert refused["status"] == 404 and "last 30 seconds" in refused["body"]["message"]
    clip = clip_factory(seconds=2, fps=FPS, gop=50)
    for second in range(0, 14, 2):  # seven 2 s fragments, each arriving as it was made
        now[0] = T0 + second + 2
        put_media(invoke, "live", clip, T0 + second)
    url = hls_url(invoke, "live", mode="LIVE", ContainerFormat="MPEG_TS")["body"]["HLSStreamingSessionURL"]
    media_url = urljoin(url, media_uri(handler_get(invoke, url).text))
    first = handler_get(invoke, media_url).text
    # The newest five, numbered from the oldest the session can see; a live playlist does not end
    assert len(playlist_uris(first)) == 5 and "#EXT-X-ENDLIST" not in first
    sequence = int(tag_values(first, "#EXT-X-MEDIA-SEQUENCE")[0])
    # When two more fragments arrive, the window moves by two and keeps every fragment's number
    for second in (14, 16):
        now[0] = T0 + second + 2
        put_media(invoke, "live", clip, T0 + second)
    later = handler_get(invoke, media_url).text
    assert int(tag_values(later, "#EXT-X-MEDIA-SEQUENCE")[0]) == sequence + 2
    assert playlist_uris(later)[:3] == playlist_uris(first)[2:]


def test_live_dash_timeline_closes_arrival_jitter_and_keeps_real_gaps(tmp_path, clip_factory, monkeypatch):
    invoke, now = live_stream(tmp_path, monkeypatch)
    clip = clip_factory(seconds=2, fps=FPS, gop=50)
    # Given 2 s fragments arriving a few ms late or early (server timestamps are arrival times), then a 4 s outage
    for second, jitter_s in ((0, 0), (2, 0.013), (4, 0.004), (6, 0.021), (12, 0.009)):
        now[0] = T0 + second + 2 + jitter_s
        put_media(invoke, "live", clip, T0 + second)
    url = invoke("/getDASHStreamingSessionURL", {"StreamName": "live", "PlaybackMode": "LIVE"})["body"]
    timeline = mpd(handler_get(invoke, url["DASHStreamingSessionURL"]).text).findall(".//mpd:S", MPD_NS)
    spans = [(int(s.get("t")), int(s.get("d"))) for s in timeline]
    # Then each fragment lasts until the next one starts, so "the segment after" is always found (dash.js)
    holes = [after[0] - (t + d) for (t, d), after in itertools.pairwise(spans)]
    assert len(spans) == 5 and holes[:3] == [0, 0, 0]
    assert {d for _, d in spans[:3]} <= set(range(1991, 2022))
    # And the outage stays a gap, the fragment before it its own 2 s long
    assert spans[3][1] == 2000 and 3900 < holes[3] < 4100


def test_live_replay_reveals_fragments_as_time_passes_then_ends(tmp_path, clip_factory, monkeypatch):
    now = [float(T0 + 3600)]
    invoke = clocked(tmp_path, monkeypatch, now)
    invoke("/createStream", {"StreamName": "replay", "DataRetentionInHours": 2})
    put_media(invoke, "replay", clip_factory(seconds=20, fps=FPS, gop=50), T0)  # ten fragments
    answer = hls_url(invoke, "replay", mode="LIVE_REPLAY", start=T0, end=T0 + 20, MaxMediaPlaylistFragmentResults=3)
    url = answer["body"]["HLSStreamingSessionURL"]
    media_url = urljoin(url, media_uri(handler_get(invoke, url).text))
    first = handler_get(invoke, media_url).text
    assert len(playlist_uris(first)) == 3 and "#EXT-X-ENDLIST" not in first
    now[0] += 4.1  # two fragment durations later: two more fragments are shown
    later = handler_get(invoke, media_url).text
    assert int(tag_values(later, "#EXT-X-MEDIA-SEQUENCE")[0]) == 2
    now[0] += 60
    done = handler_get(invoke, media_url).text
    assert "#EXT-X-ENDLIST" in done and int(tag_values(done, "#EXT-X-MEDIA-SEQUENCE")[0]) == 7


def test_session_token_fields_round_trip_and_refuse_alteration():
    from stillframe.domain.playback import PlaybackSession
    from stillframe.domain.token import TokenCodec
    from stillframe.errors import NotAuthorizedError

    session = PlaybackSession(
        "HLS", "s", "arn:x", "LIVE", "server", None, None, "FRAGMENTED_MP4", "ALWAYS", False, False, 5, 0, 1000, "AK"
    )
    codec = TokenCodec(b"k")
    token = session.encode(codec)
    assert all(ch.isalnum() or ch in "-_." for ch in token)  # needs no escaping in a query string
    assert PlaybackSession.decode(codec, token, now_ms=999) == session
    with pytest.raises(NotAuthorizedError):
        PlaybackSession.decode(TokenCodec(b"other"), token, now_ms=0)
    with pytest.raises(NotAuthorizedError):
        PlaybackSession.decode(codec, dataclasses.replace(session, key_id=None).encode(codec)[:-2] + "AA", now_ms=0)


@LOCAL_ONLY
def test_bad_playback_requests_never_cause_a_5xx(invoke, stream):
    import random

    from stillframe.domain.playback import PLAYBACK_PATHS

    valid = parse_qs(urlsplit(hls_url(invoke, stream, start=T0, end=T0 + 4)["body"]["HLSStreamingSessionURL"]).query)
    token = valid["SessionToken"][0]
    nasty = ["", "0", "-1", "3", "1" * 200, "abc", "%00", "é", token, token[:-4], token + "A", "1e9", " 1"]
    rng = random.Random(7)
    for path in PLAYBACK_PATHS:
        for _ in range(12):
            params = {
                name: rng.choice(nasty) for name in rng.sample(["SessionToken", "FragmentNumber", "TrackNumber"], 3)
            }
            url = "https://h/prod" + path + "?" + "&".join(f"{k}={v}" for k, v in params.items())
            got = handler_get(invoke, url)
            assert 400 <= got.status < 500 or got.status == 200, (path, params, got.status, got.body[:200])
            assert b"Traceback" not in got.body


def test_a_segment_over_the_transport_cap_is_refused_naming_it(tmp_path, clip_factory, monkeypatch):
    invoke = clocked(tmp_path, monkeypatch, [float(T0 + 60)], max_media_bytes=20_000)
    invoke("/createStream", {"StreamName": "big", "DataRetentionInHours": 1})
    put_media(invoke, "big", clip_factory(seconds=2, fps=FPS, gop=50, width=640, height=480), T0)
    url = hls_url(invoke, "big", start=T0, end=T0 + 2)["body"]["HLSStreamingSessionURL"]
    playlist_url = urljoin(url, media_uri(handler_get(invoke, url).text))
    segment = handler_get(invoke, urljoin(playlist_url, playlist_uris(handler_get(invoke, playlist_url).text)[0]))
    assert segment.status == 400 and b"over the 20,000 bytes" in segment.body


@LOCAL_ONLY
@pytest.mark.parametrize(
    ("codec", "container", "playable"),
    [
        ("libx265", "MPEG_TS", True),
        ("libx265", "FRAGMENTED_MP4", True),
        ("libvpx-vp9", "FRAGMENTED_MP4", True),
        ("libvpx-vp9", "MPEG_TS", False),
    ],
)
def test_codecs_play_where_the_container_carries_them(invoke, clip_factory, codec, container, playable):
    invoke("/createStream", {"StreamName": "codec", "DataRetentionInHours": 1})
    put_media(invoke, "codec", clip_factory(seconds=2, fps=FPS, gop=50, codec=codec), T0)
    answer = hls_url(invoke, "codec", start=T0, end=T0 + 2, ContainerFormat=container)
    if not playable:
        assert answer["status"] == 400
        assert answer["headers"]["x-amzn-ErrorType"].startswith("UnsupportedStreamMediaTypeException")
        assert "vp09" in answer["body"]["message"] and "MPEG-TS" in answer["body"]["message"]
        return
    _, segments = hls_segments(get(invoke), answer["body"]["HLSStreamingSessionURL"])
    media = b"".join(segments if container == "FRAGMENTED_MP4" else segments[1:])
    frames = decoded_frames(media, fmt="mpegts" if container == "MPEG_TS" else None)
    assert [n for n, _ in frames] == list(range(50))
