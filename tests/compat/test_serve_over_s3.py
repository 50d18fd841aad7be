"""`stillframe serve --bucket` over LocalStack S3, driven by unmodified boto3 clients and `put-media`."""

from __future__ import annotations

import base64
import uuid

import boto3
import pytest

from tests.conftest import T0
from tests.support.serve import put_media_cli, running_serve
from tests.support.synth import read_frame_number

pytestmark = pytest.mark.localstack
CREDS = {"aws_access_key_id": "test", "aws_secret_access_key": "test", "region_name": "us-east-1"}


@pytest.fixture
def s3_server(s3_bucket):
    prefix = f"serve-{uuid.uuid4().hex[:8]}"
    args = ("--bucket", s3_bucket, "--prefix", prefix)
    with running_serve(*args, env={"STILLFRAME_TOKEN_SECRET": "compat-secret"}) as (url, _):
        yield url, prefix


def test_ingest_and_frame_accurate_stills_over_s3(s3_server, s3_bucket, localstack_s3, clip_factory, tmp_path):
    url, prefix = s3_server
    clip = tmp_path / "clip.mkv"
    clip.write_bytes(clip_factory(seconds=4, fps=25, gop=50))
    put_media_cli(url, "s3cam", str(clip), "--retention-hours", "1", "--producer-start-time", str(T0))
    kinesisvideo = boto3.client("kinesisvideo", endpoint_url=url, **CREDS)
    endpoint = kinesisvideo.get_data_endpoint(StreamName="s3cam", APIName="GET_IMAGES")["DataEndpoint"]
    media = boto3.client("kinesis-video-archived-media", endpoint_url=endpoint, **CREDS)
    images = media.get_images(
        StreamName="s3cam",
        ImageSelectorType="PRODUCER_TIMESTAMP",
        StartTimestamp=T0 + 0.5,
        EndTimestamp=T0 + 3.5,
        SamplingInterval=1000,
        Format="JPEG",
    )["Images"]
    assert [read_frame_number(base64.b64decode(i["ImageContent"])) for i in images] == [12, 37, 62, 87]
    # the objects really are in the bucket, under the prefix, in the documented layout
    keys = [o["Key"] for o in localstack_s3.list_objects_v2(Bucket=s3_bucket, Prefix=prefix)["Contents"]]
    assert f"{prefix}/streams/s3cam.json" in keys
    assert sum(key.endswith(".mkv") for key in keys) == 2
