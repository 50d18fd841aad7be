"""KVS producers stream into `stillframe serve`: one PutMedia per session, acks streamed back per cluster.

Driven by ``tests.support.producer.EmulatedProducer``, which behaves on the wire as the official C producer SDK
does (chunked body signed over the empty payload, ABSOLUTE cluster timecodes, END_OF_FRAGMENT tags, staleness
reset and replay, waiting for the last PERSISTED). The SDK itself cannot build in CI; it was run by hand
against serve (docs/decisions.md has the figures).
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.compat.conftest import START_MS
from tests.support.producer import EmulatedProducer, ProducerStream, frame_at, sdk_stream
from tests.support.producer import session_clients as clients
from tests.support.serve import running_serve
from tests.support.synth import make_clip, read_frame_number


def test_a_producer_session_gets_its_acks_while_sending_and_one_fragment_per_cluster(
    fresh_server: str, media: ProducerStream
) -> None:
    # Given a stream, and a producer that resets its connection if a cluster is not acked BUFFERING within 5 s
    kinesisvideo, archived = clients(fresh_server)
    kinesisvideo.create_stream(StreamName="cam", DataRetentionInHours=1)
    producer = EmulatedProducer(fresh_server, "cam")
    # When it streams six clusters in one PutMedia, waiting for the last PERSISTED before ending the body
    producer.run(media, pace_s=0.05)
    # Then one session did it all: BUFFERING, RECEIVED, PERSISTED per cluster, by the cluster's own timecode
    assert len(producer.sessions) == 1 and producer.sessions[0].error is None
    timecodes = [timecode for timecode, _ in media.clusters]
    events = [(ack["EventType"], ack["FragmentTimecode"]) for ack in producer.sessions[0].acks]
    assert events == [(event, tc) for tc in timecodes for event in ("BUFFERING", "RECEIVED", "PERSISTED")]
    # And each cluster is one fragment at its producer time, its stills frame-exact
    fragments = archived.list_fragments(StreamName="cam")["Fragments"]
    assert sorted(round(f["ProducerTimestamp"].timestamp() * 1000) for f in fragments) == timecodes
    assert sorted(f["FragmentNumber"] for f in fragments) == sorted(producer.persisted.values())
    assert [frame_at(archived, "cam", START_MS + k * 500) for k in range(12)] == [k * 12 + k // 2 for k in range(12)]


def test_a_producer_cut_off_mid_cluster_replays_and_every_fragment_is_stored_once(
    fresh_server: str, media: ProducerStream
) -> None:
    # Given a producer whose connection breaks in the middle of its fourth cluster
    kinesisvideo, archived = clients(fresh_server)
    kinesisvideo.create_stream(StreamName="cam", DataRetentionInHours=1)
    producer = EmulatedProducer(fresh_server, "cam")
    # When it reconnects and sends again everything not yet PERSISTED
    producer.run(media, cut_after=3)
    # Then the cut cluster was never acked in the first session, and every cluster is stored exactly once
    first = producer.sessions[0]
    assert {ack["FragmentTimecode"] for ack in first.acks if ack["EventType"] == "PERSISTED"} == {
        tc for tc, _ in media.clusters[:3]
    }
    fragments = archived.list_fragments(StreamName="cam")["Fragments"]
    assert len(fragments) == len(media.clusters)
    assert frame_at(archived, "cam", START_MS + 3500) == 87


def test_a_replayed_cluster_is_acked_persisted_with_its_first_number(fresh_server: str, media: ProducerStream) -> None:
    kinesisvideo, archived = clients(fresh_server)
    kinesisvideo.create_stream(StreamName="cam", DataRetentionInHours=1)
    first = EmulatedProducer(fresh_server, "cam")
    first.run(media)
    # When a producer that never saw the acks sends the same clusters again (its reset and replay)
    again = EmulatedProducer(fresh_server, "cam")
    again.run(media)
    # Then it gets PERSISTED with the same fragment numbers, and nothing is stored twice
    assert again.persisted == first.persisted
    assert len(archived.list_fragments(StreamName="cam")["Fragments"]) == len(media.clusters)


def test_a_cluster_that_does_not_start_with_a_key_frame_is_refused_and_the_session_goes_on(
    fresh_server: str, media: ProducerStream
) -> None:
    kinesisvideo, archived = clients(fresh_server)
    kinesisvideo.create_stream(StreamName="cam", DataRetentionInHours=1)
    # Given a stream whose second cluster starts with a non-key frame (its key flag cleared)
    timecode, data = media.clusters[1]
    flag_at = data.index(b"\xa3") + 1 + 8 + 1 + 2  # SimpleBlock id, 8-byte size, track, timecode
    broken = data[:flag_at] + bytes([data[flag_at] & 0x7F]) + data[flag_at + 1 :]
    clusters = [media.clusters[0], (timecode, broken), *media.clusters[2:]]
    producer = EmulatedProducer(fresh_server, "cam")
    with pytest.raises(AssertionError, match="never persisted"):
        producer.run(ProducerStream(media.header, clusters))
    # Then that cluster gets an ERROR ack with KVS's invalid-MKV error id, and the others are stored
    errors = [ack for ack in producer.sessions[0].acks if ack["EventType"] == "ERROR"]
    assert errors[0]["FragmentTimecode"] == timecode and errors[0]["ErrorId"] == 4006
    assert "key frame" in errors[0]["ErrorMessage"]
    stored = {
        round(f["ProducerTimestamp"].timestamp() * 1000) for f in archived.list_fragments(StreamName="cam")["Fragments"]
    }
    assert timecode not in stored and len(stored) == len(media.clusters) - 1


def test_a_session_for_a_missing_stream_is_answered_before_any_media_is_read(
    fresh_server: str, media: ProducerStream
) -> None:
    producer = EmulatedProducer(fresh_server, "nobody")
    with pytest.raises(AssertionError):
        producer.run(media)
    session = producer.sessions[0]
    assert session.status == 404 and "ResourceNotFoundException" in (session.error or "")


def keys_cli(keys_file: Path, *args: str) -> dict[str, str]:
    command = [sys.executable, "-m", "stillframe.cli.main", "keys", args[0], "--keys-file", str(keys_file), *args[1:]]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)
    return dict(json.loads(done.stdout))


def test_keys_mode_takes_sessions_signed_over_the_empty_payload_within_the_keys_prefix(
    tmp_path: Path, media: ProducerStream
) -> None:
    # Given serve with keys auth, an admin key and a key limited to lobby- streams
    keys_file = tmp_path / "keys.json"
    admin = keys_cli(keys_file, "create", "--json")
    lobby = keys_cli(keys_file, "create", "--json", "--stream-prefix", "lobby-")
    with running_serve("--data-dir", str(tmp_path / "data"), "--keys-file", str(keys_file)) as (url, _):
        kinesisvideo, archived = clients(url, (admin["AccessKeyId"], admin["SecretAccessKey"]))
        for name in ("lobby-1", "garage"):
            kinesisvideo.create_stream(StreamName=name, DataRetentionInHours=1)
        key = (lobby["AccessKeyId"], lobby["SecretAccessKey"])
        # When the lobby key streams into its own stream / Then every cluster is stored
        EmulatedProducer(url, "lobby-1", credentials=key).run(media)
        assert len(archived.list_fragments(StreamName="lobby-1")["Fragments"]) == len(media.clusters)
        # And into another stream it is refused before anything is read
        elsewhere = EmulatedProducer(url, "garage", credentials=key)
        with pytest.raises(AssertionError):
            elsewhere.run(media)
        assert elsewhere.sessions[0].status == 401 and "may not use stream" in (elsewhere.sessions[0].error or "")
        # And a JSON operation still needs its body signed: an empty-payload signature with a body is refused
        status, answer = _signed_over_empty_payload(url, (admin["AccessKeyId"], admin["SecretAccessKey"]))
        assert status == 401 and answer["__type"] == "NotAuthorizedException"


def _signed_over_empty_payload(url: str, key: tuple[str, str]) -> tuple[int, dict[str, Any]]:
    """DescribeStream signed as a producer signs PutMedia (over no body), then sent with a JSON body."""
    request = AWSRequest(
        method="POST", url=f"{url}/describeStream", data=b"", headers={"Content-Type": "application/json"}
    )
    SigV4Auth(Credentials(*key), "kinesisvideo", "us-east-1").add_auth(request)
    body = json.dumps({"StreamName": "garage"}).encode()
    connection = http.client.HTTPConnection(urlsplit(url).netloc, timeout=30)
    headers = {name: value for name, value in request.headers.items() if name.lower() != "content-length"}
    connection.request("POST", "/describeStream", body=body, headers=headers)
    response = connection.getresponse()
    return response.status, json.loads(response.read())


def test_a_rotated_producer_keeps_its_display_transform_on_every_cluster_and_a_new_header_is_read_again(
    fresh_server: str,
) -> None:
    # Given a producer whose camera is mounted sideways (a display matrix: portrait stills), three clusters, that
    # then restarts its stream in the same session with a new Segment header and an upright track
    rotated = sdk_stream(make_clip(seconds=3, fps=25, gop=25, rotation_ccw=-90), start_ms=START_MS)
    upright = sdk_stream(make_clip(seconds=2, fps=25, gop=25, start_number=75), start_ms=START_MS + 3000)
    restarted = [(upright.clusters[0][0], upright.header + upright.clusters[0][1]), *upright.clusters[1:]]
    kinesisvideo, archived = clients(fresh_server)
    kinesisvideo.create_stream(StreamName="sideways", DataRetentionInHours=1)
    # When it streams them in one session
    producer = EmulatedProducer(fresh_server, "sideways")
    producer.run(ProducerStream(rotated.header, [*rotated.clusters, *restarted]), pace_s=0.05)
    # Then every cluster is stored; the rotated ones give portrait stills (the transform read from the first
    # cluster holds for the later ones), the upright ones landscape stills (the new header was read again), those
    # frame-exact (a rotated still's frame code is turned with the picture)
    assert len(producer.persisted) == 5
    shapes = []
    for second in range(5):
        answer = archived.get_images(
            StreamName="sideways",
            ImageSelectorType="PRODUCER_TIMESTAMP",
            StartTimestamp=(START_MS + second * 1000 + 500) / 1000,
            EndTimestamp=(START_MS + second * 1000 + 500) / 1000,
            Format="PNG",
        )
        image = _image(answer["Images"][0]["ImageContent"])
        shapes.append("portrait" if image.height > image.width else "landscape")
        if second >= 3:
            assert read_frame_number(image) == second * 25 + 12
    assert shapes == ["portrait"] * 3 + ["landscape"] * 2


def _image(content: str) -> Any:

    from PIL import Image

    return Image.open(io.BytesIO(base64.b64decode(content)))
