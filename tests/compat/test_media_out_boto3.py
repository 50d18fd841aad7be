"""Unmodified boto3 against a real `stillframe serve`: get_clip and get_media_for_fragment_list, answers and errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from tests.conftest import T0
from tests.support.media_out import clip_frames, mkv_files, mkv_frames
from tests.support.serve import put_media_cli

CREDS = {"aws_access_key_id": "test", "aws_secret_access_key": "test", "region_name": "us-east-1"}
NO_RETRY = Config(retries={"max_attempts": 1, "mode": "standard"})


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(T0 + seconds, UTC)


@pytest.fixture(scope="module")
def archived(server, clip_factory, tmp_path_factory):
    """An archived-media client at the GET_CLIP endpoint of a stream holding 6 s of video from T0."""
    clip = tmp_path_factory.mktemp("media-out") / "clip.mp4"
    clip.write_bytes(clip_factory(seconds=6, fps=25, gop=50, container="mp4"))
    put_media_cli(server, "media-out", str(clip), "--retention-hours", "2", "--producer-start-time", str(T0))
    control = boto3.client("kinesisvideo", endpoint_url=server, config=NO_RETRY, **CREDS)
    endpoint = control.get_data_endpoint(StreamName="media-out", APIName="GET_CLIP")["DataEndpoint"]
    return boto3.client("kinesis-video-archived-media", endpoint_url=endpoint, config=NO_RETRY, **CREDS)


def test_get_clip_returns_the_range_as_mp4(archived):
    answer = archived.get_clip(
        StreamName="media-out",
        ClipFragmentSelector={
            "FragmentSelectorType": "PRODUCER_TIMESTAMP",
            "TimestampRange": {"StartTimestamp": at(0.5), "EndTimestamp": at(4.5)},
        },
    )
    assert answer["ContentType"] == "video/mp4"
    assert [n for n, _ in clip_frames(answer["Payload"].read())] == list(range(12, 113))


def test_get_clip_errors_raise_their_classes(archived):
    with pytest.raises(archived.exceptions.ResourceNotFoundException):
        archived.get_clip(
            StreamName="media-out",
            ClipFragmentSelector={
                "FragmentSelectorType": "PRODUCER_TIMESTAMP",
                "TimestampRange": {"StartTimestamp": at(1000), "EndTimestamp": at(1001)},
            },
        )
    with pytest.raises(archived.exceptions.InvalidArgumentException):
        archived.get_clip(
            StreamName="media-out",
            ClipFragmentSelector={
                "FragmentSelectorType": "SERVER_TIMESTAMP",
                "TimestampRange": {"StartTimestamp": at(5), "EndTimestamp": at(1)},
            },
        )


def test_get_media_for_fragment_list_returns_tagged_fragments(archived):
    listed = archived.list_fragments(StreamName="media-out")["Fragments"]
    numbers = [f["FragmentNumber"] for f in sorted(listed, key=lambda f: f["ProducerTimestamp"])]
    answer = archived.get_media_for_fragment_list(StreamName="media-out", Fragments=numbers[::-1])
    assert answer["ContentType"] == "video/webm"
    files = mkv_files(answer["Payload"].read())
    assert [f.tags["AWS_KINESISVIDEO_FRAGMENT_NUMBER"] for f in files] == numbers[::-1]
    assert [n for f in files[::-1] for n, _ in mkv_frames(f.data)] == list(range(150))
    with pytest.raises(archived.exceptions.ResourceNotFoundException):
        archived.get_media_for_fragment_list(StreamName="media-out", Fragments=["99999999"])


def test_the_aws_cli_writes_a_clip_file(server, archived, tmp_path):
    # Given the AWS CLI (unmodified, as installed) and the stream above
    out = tmp_path / "clip.mp4"
    command = [
        str(Path(sys.executable).with_name("aws")),
        "kinesis-video-archived-media",
        "get-clip",
        "--endpoint-url",
        server,
        "--stream-name",
        "media-out",
        "--clip-fragment-selector",
        json.dumps(
            {
                "FragmentSelectorType": "PRODUCER_TIMESTAMP",
                "TimestampRange": {"StartTimestamp": T0 + 1, "EndTimestamp": T0 + 3},
            }
        ),
        str(out),
    ]
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    # When it asks for two seconds / Then the file holds exactly those frames
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ContentType"] == "video/mp4"
    assert [n for n, _ in clip_frames(out.read_bytes())] == list(range(25, 76))


JS_CALLS = Path(__file__).resolve().parents[1] / "e2e" / "js" / "kvs_calls.mjs"


@pytest.mark.skipif(
    shutil.which("node") is None or not (JS_CALLS.parent / "node_modules").is_dir(),
    reason="node or tests/e2e/js/node_modules is missing (make test installs them)",
)
def test_the_js_sdk_v3_gets_a_clip(server, archived, tmp_path):
    # Given the unmodified JS SDK v3 archived-media client
    out = tmp_path / "js.mp4"
    env = {**os.environ, "ENDPOINT": server, "AWS_REGION": "us-east-1"}
    env.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test")
    # When it asks GetClip for two seconds and writes the payload
    done = subprocess.run(
        ["node", str(JS_CALLS), "clip", "media-out", str(T0 + 1), str(T0 + 3), str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    # Then the file holds exactly those frames
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["ContentType"] == "video/mp4"
    assert [n for n, _ in clip_frames(out.read_bytes())] == list(range(25, 76))
