"""`stillframe put-media` from a live URL streams it through one PutMedia session, fragment by fragment."""

from __future__ import annotations

import base64
import functools
import http.server
import io
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3

from tests.conftest import T0
from tests.support.serve import put_media_cli
from tests.support.synth import read_frame_number

FPS = 25
CREDS = {"region_name": "us-east-1", "aws_access_key_id": "test", "aws_secret_access_key": "test"}


@contextmanager
def live_source(directory: Path, name: str) -> Iterator[str]:
    """``directory/name`` served over HTTP on loopback, as a live URL."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    source = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=source.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{source.server_address[1]}/{name}"
    finally:
        source.shutdown()
        source.server_close()


def test_live_url_streams_through_one_session(server, clip_factory, tmp_path):
    # Given a 6 s MPEG-TS stream (2 s GOPs, frame numbers painted) served over HTTP on loopback
    (tmp_path / "live.ts").write_bytes(clip_factory(seconds=6, fps=FPS, gop=50, container="mpegts"))
    # When put-media reads it as a live source
    with live_source(tmp_path, "live.ts") as url:
        result = put_media_cli(server, "live", url, "--producer-start-time", str(T0))
    # Then it went up as one session: only a session acks BUFFERING and RECEIVED, and each cluster's timecode is
    # its chunk's offset (RELATIVE), acked in order
    acks = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(a["EventType"], a["FragmentTimecode"]) for a in acks] == [
        (event, offset) for offset in (0, 2000, 4000) for event in ("BUFFERING", "RECEIVED", "PERSISTED")
    ]
    assert "no live session" not in result.stderr
    assert "3 fragments persisted in 3 chunks" in result.stderr
    # And each fragment is stored once, at producer time = start + offset
    media = boto3.client("kinesis-video-archived-media", endpoint_url=server, **CREDS)
    fragments = media.list_fragments(StreamName="live")["Fragments"]
    assert sorted(f["ProducerTimestamp"].timestamp() for f in fragments) == [T0, T0 + 2, T0 + 4]
    assert sorted(f["FragmentNumber"] for f in fragments) == sorted(a["FragmentNumber"] for a in acks[2::3])
    # And stills at those producer times are the frames painted there, across fragment boundaries
    answer = media.get_images(
        StreamName="live",
        ImageSelectorType="PRODUCER_TIMESTAMP",
        StartTimestamp=T0 + 0.2,
        EndTimestamp=T0 + 5.9,
        SamplingInterval=1800,
        Format="JPEG",
    )
    stills = {
        round((i["TimeStamp"].timestamp() - T0) * 1000): read_frame_number(base64.b64decode(i["ImageContent"]))
        for i in answer["Images"]
    }
    assert stills and all(number == ms * FPS // 1000 for ms, number in stills.items())
    assert len(stills) == 4


def test_a_live_session_keeps_the_source_rotation(server, clip_factory, tmp_path):
    # Given a live source turned a quarter and mirrored (its display matrix), read by put-media as a live URL
    source = tmp_path / "turned.mp4"
    source.write_bytes(
        clip_factory(frames=50, fps=FPS, gop=25, width=320, height=180, container="mp4", rotation_ccw=90, hflip=True)
    )
    result = put_media_cli(server, "turned-live", source.as_uri(), "--producer-start-time", str(T0))
    assert "no live session" not in result.stderr
    assert [json.loads(line)["EventType"] for line in result.stdout.splitlines()][:2] == ["BUFFERING", "RECEIVED"]
    # When a still is asked for at the original size
    media = boto3.client("kinesis-video-archived-media", endpoint_url=server, **CREDS)
    image = media.get_images(
        StreamName="turned-live",
        ImageSelectorType="PRODUCER_TIMESTAMP",
        StartTimestamp=T0 + 0.4,
        EndTimestamp=T0 + 0.4,
        Format="PNG",
    )["Images"][0]
    # Then it is upright, as a player shows the source: 180 wide, 320 high, frame 10 readable once turned back
    from PIL import Image

    picture = Image.open(io.BytesIO(base64.b64decode(image["ImageContent"])))
    assert picture.size == (180, 320)
    assert (
        read_frame_number(picture.transpose(Image.Transpose.FLIP_LEFT_RIGHT).transpose(Image.Transpose.ROTATE_270))
        == 10
    )
