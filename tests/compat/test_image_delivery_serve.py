"""Automated image delivery against a real `stillframe serve`, driven by unmodified boto3 and `put-media`.

ENABLED image generation + `put-media --generate-images` puts one image per SamplingInterval into the destination
under KVS's key layout (`<account>_<stream>_<timecode ms>_<uuid>.jpg`), the frame GetImages shows at that time.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.compat.test_boto3_clients import CREDS, NO_RETRY
from tests.conftest import T0
from tests.support.serve import put_media_cli, serve_process
from tests.support.synth import read_frame_number

ACCOUNT = "000000000000"
FPS = 25
SECONDS = 6
KEY = re.compile(rf"^{ACCOUNT}_(?P<stream>[\w.-]+)_(?P<ms>\d+)_[0-9a-f]{{8}}(-[0-9a-f]{{4}}){{3}}-[0-9a-f]{{12}}\.jpg$")


def config(uri: str, status: str = "ENABLED") -> dict[str, Any]:
    return {
        "Status": status,
        "ImageSelectorType": "PRODUCER_TIMESTAMP",
        "DestinationConfig": {"Uri": uri, "DestinationRegion": "us-east-1"},
        "SamplingInterval": 1000,
        "Format": "JPEG",
    }


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    data_dir = tmp_path_factory.mktemp("delivery-data")
    log = data_dir.parent / f"{data_dir.name}-serve.log"
    env = {"STILLFRAME_DELIVERY_RETRY_MS": "200"}
    with serve_process("--data-dir", str(data_dir), env=env, log=log) as (url, _, _process):
        yield {"url": url, "data_dir": data_dir, "log": log}


@pytest.fixture(scope="module")
def kinesisvideo(serve: dict[str, Any]) -> Any:
    return boto3.client("kinesisvideo", endpoint_url=serve["url"], config=NO_RETRY, **CREDS)


@pytest.fixture(scope="module")
def archived(serve: dict[str, Any]) -> Any:
    return boto3.client("kinesis-video-archived-media", endpoint_url=serve["url"], config=NO_RETRY, **CREDS)


@pytest.fixture(scope="module")
def clip_file(tmp_path_factory: pytest.TempPathFactory, clip_factory: Any) -> str:
    path = tmp_path_factory.mktemp("delivery-clip") / "clip.mkv"
    path.write_bytes(clip_factory(seconds=SECONDS, fps=FPS, gop=FPS))
    return str(path)


def upload(serve: dict[str, Any], stream: str, clip: str, *extra: str) -> None:
    put_media_cli(serve["url"], stream, clip, "--retention-hours", "24", "--producer-start-time", str(T0), *extra)


def pending(serve: dict[str, Any]) -> list[Path]:
    """Delivery jobs not yet done: the `generate/` markers of the local store."""
    root = serve["data_dir"] / "objects" / "generate"
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def wait_delivered(serve: dict[str, Any], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while pending(serve):
        assert time.monotonic() < deadline, f"deliveries still pending: {pending(serve)}"
        time.sleep(0.1)


def delivered(serve: dict[str, Any], bucket: str, prefix: str) -> dict[str, bytes]:
    folder = serve["data_dir"] / "delivered" / bucket / prefix
    return {path.name: path.read_bytes() for path in sorted(folder.glob("*"))} if folder.is_dir() else {}


def test_one_right_frame_per_sampling_interval_under_kvs_key_layout(serve, kinesisvideo, archived, clip_file):
    # Given a stream whose image generation is ENABLED towards s3://stills/lobby
    kinesisvideo.create_stream(StreamName="deliver-main", DataRetentionInHours=24)
    kinesisvideo.update_image_generation_configuration(
        StreamName="deliver-main", ImageGenerationConfiguration=config("s3://stills/lobby")
    )
    # When put-media tags every fragment it sends
    upload(serve, "deliver-main", clip_file, "--generate-images")
    wait_delivered(serve)
    # Then the destination holds one image per second of video, each the frame on screen then
    images = delivered(serve, "stills", "lobby")
    times = []
    for name, data in images.items():
        match = KEY.match(name)
        assert match is not None and match["stream"] == "deliver-main", name
        times.append(int(match["ms"]))
        assert data[:3] == b"\xff\xd8\xff"  # JPEG, as the .jpg extension (image/jpeg) says
        assert read_frame_number(data) == (int(match["ms"]) - T0 * 1000) * FPS // 1000
    assert sorted(times) == [T0 * 1000 + k * 1000 for k in range(SECONDS)]
    # And each is exactly what GetImages answers for that time
    first = min(images, key=lambda name: int(KEY.match(name)["ms"]))  # type: ignore[index]
    answer = archived.get_images(
        StreamName="deliver-main",
        ImageSelectorType="PRODUCER_TIMESTAMP",
        StartTimestamp=T0,
        EndTimestamp=T0,
        SamplingInterval=1000,
        Format="JPEG",
    )
    assert base64.b64decode(answer["Images"][0]["ImageContent"]) == images[first]


def test_disabled_or_untagged_fragments_produce_nothing(serve, kinesisvideo, clip_file):
    # Given a DISABLED configuration, and an ENABLED one on a stream whose fragments are not tagged
    kinesisvideo.create_stream(StreamName="deliver-off", DataRetentionInHours=24)
    kinesisvideo.update_image_generation_configuration(
        StreamName="deliver-off", ImageGenerationConfiguration=config("s3://stills-off", status="DISABLED")
    )
    kinesisvideo.create_stream(StreamName="deliver-untagged", DataRetentionInHours=24)
    kinesisvideo.update_image_generation_configuration(
        StreamName="deliver-untagged", ImageGenerationConfiguration=config("s3://stills-untagged")
    )
    # When both get media
    upload(serve, "deliver-off", clip_file, "--generate-images")
    upload(serve, "deliver-untagged", clip_file)
    # Then no job was queued before the acks (jobs are written before them), so nothing is ever delivered
    assert pending(serve) == []
    wait_delivered(serve)
    assert delivered(serve, "stills-off", "") == {}
    assert delivered(serve, "stills-untagged", "") == {}


def test_failing_destination_is_retried_and_the_fragment_stays_readable(serve, kinesisvideo, archived, clip_file):
    # Given a destination that cannot be written (a file where the bucket's directory must go)
    blocker = serve["data_dir"] / "delivered" / "stills-broken"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("not a directory")
    kinesisvideo.create_stream(StreamName="deliver-retry", DataRetentionInHours=24)
    kinesisvideo.update_image_generation_configuration(
        StreamName="deliver-retry", ImageGenerationConfiguration=config("s3://stills-broken/cam")
    )
    # When tagged media arrives, its deliveries fail and are logged with a running count
    upload(serve, "deliver-retry", clip_file, "--generate-images")
    deadline = time.monotonic() + 30
    while "image delivery failed" not in serve["log"].read_text() or "attempt=2" not in serve["log"].read_text():
        assert time.monotonic() < deadline, "no retried failure logged"
        time.sleep(0.1)
    assert "delivery_failures=" in serve["log"].read_text()
    # Then the jobs are kept and the fragments are served as ever
    assert pending(serve)
    answer = archived.get_images(
        StreamName="deliver-retry",
        ImageSelectorType="PRODUCER_TIMESTAMP",
        StartTimestamp=T0 + 2,
        EndTimestamp=T0 + 2,
        Format="JPEG",
    )
    assert read_frame_number(base64.b64decode(answer["Images"][0]["ImageContent"])) == 2 * FPS
    # And once the destination works, a retry delivers every image
    blocker.unlink()
    wait_delivered(serve)
    assert len(delivered(serve, "stills-broken", "cam")) == SECONDS


@pytest.mark.localstack
def test_delivery_to_a_real_bucket_with_serve_over_s3(tmp_path, s3_bucket, localstack_s3, clip_file):
    # Given serve over LocalStack S3 and a stream delivering to a prefix of the same bucket
    env = {"STILLFRAME_TOKEN_SECRET": "delivery-test", "STILLFRAME_DELIVERY_RETRY_MS": "200"}
    prefix = f"serve-{time.time_ns()}"
    with serve_process("--bucket", s3_bucket, "--prefix", prefix, env=env) as (url, _, _process):
        client = boto3.client("kinesisvideo", endpoint_url=url, config=NO_RETRY, **CREDS)
        client.create_stream(StreamName="deliver-s3", DataRetentionInHours=24)
        client.update_image_generation_configuration(
            StreamName="deliver-s3", ImageGenerationConfiguration=config(f"s3://{s3_bucket}/{prefix}-stills/")
        )
        # When tagged media arrives
        put_media_cli(url, "deliver-s3", clip_file, "--producer-start-time", str(T0), "--generate-images")
        deadline = time.monotonic() + 60
        while True:
            listed = localstack_s3.list_objects_v2(Bucket=s3_bucket, Prefix=f"{prefix}-stills/").get("Contents", [])
            if len(listed) >= SECONDS or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    # Then the bucket holds one image/jpeg per second under KVS's key layout, with KVS's metadata
    assert len(listed) == SECONDS
    for item in listed:
        name = item["Key"].split("/", 1)[1]
        match = KEY.match(name)
        assert match is not None, name
        head = localstack_s3.head_object(Bucket=s3_bucket, Key=item["Key"])
        assert head["ContentType"] == "image/jpeg"
        assert head["Metadata"]["aws_kinesisvideo_producer_timestamp"] == match["ms"]
        body = localstack_s3.get_object(Bucket=s3_bucket, Key=item["Key"])["Body"].read()
        assert read_frame_number(body) == (int(match["ms"]) - T0 * 1000) * FPS // 1000


def test_pending_deliveries_survive_a_restart(tmp_path, clip_file):
    # Given a serve whose destination fails, stopped while its deliveries are still pending
    blocker = tmp_path / "delivered" / "stills-later"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("not a directory")
    first: dict[str, Any] = {"data_dir": tmp_path}
    with serve_process("--data-dir", str(tmp_path), env={"STILLFRAME_DELIVERY_RETRY_MS": "60000"}) as (url, _, _p):
        client = boto3.client("kinesisvideo", endpoint_url=url, config=NO_RETRY, **CREDS)
        client.create_stream(StreamName="deliver-restart", DataRetentionInHours=24)
        client.update_image_generation_configuration(
            StreamName="deliver-restart", ImageGenerationConfiguration=config("s3://stills-later")
        )
        put_media_cli(url, "deliver-restart", clip_file, "--producer-start-time", str(T0), "--generate-images")
    assert pending(first)
    # When the destination works again and serve starts over the same data
    blocker.unlink()
    with serve_process("--data-dir", str(tmp_path)):
        wait_delivered(first)
    # Then every image was delivered by the new process
    assert len(delivered(first, "stills-later", "")) == SECONDS
