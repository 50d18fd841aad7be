"""Automated image delivery on the deployed stack: PutMedia -> SQS -> the delivery function -> the destination bucket;
and the same function's hourly run, which also finishes deleting the media a DeleteStream left.

scripts/e2e.sh deploys the stack with ``-c imageDeliveryBuckets=<E2E_DELIVERY_BUCKET>``; the test creates that
bucket in LocalStack's S3 when it is missing.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tests.e2e.conftest import (
    CLIP_START,
    Deployment,
    eventually,
    localstack_client,
    put_media,
    sdk_client,
    unique_stream,
)

pytestmark = pytest.mark.e2e

# The same default as scripts/e2e.sh's E2E_DELIVERY_BUCKET.
DELIVERY_BUCKET = os.environ.get("E2E_DELIVERY_BUCKET", "stillframe-e2e-images")


def test_tagged_put_media_delivers_one_image_per_interval(
    keys_stack: Deployment, clip_file: Path, cleanup_streams: list[str]
) -> None:
    # Given a stream with ENABLED image generation into the bucket the stack may write to
    s3 = localstack_client(keys_stack, "s3")
    if DELIVERY_BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=DELIVERY_BUCKET)
    stream = unique_stream("deliver")
    prefix = f"e2e/{stream}"
    kinesisvideo = sdk_client(keys_stack, "kinesisvideo")
    kinesisvideo.create_stream(StreamName=stream, DataRetentionInHours=1)
    cleanup_streams.append(stream)
    kinesisvideo.update_image_generation_configuration(
        StreamName=stream,
        ImageGenerationConfiguration={
            "Status": "ENABLED",
            "ImageSelectorType": "PRODUCER_TIMESTAMP",
            "DestinationConfig": {"Uri": f"s3://{DELIVERY_BUCKET}/{prefix}", "DestinationRegion": keys_stack.region},
            "SamplingInterval": 1000,
            "Format": "JPEG",
        },
    )
    # When the 6 s clip is sent with KVS's image-generation tag
    put_media(keys_stack, stream, clip_file, "--signing-name", "kinesisvideo", "--generate-images")

    # Then the delivery function writes one JPEG per second of video, under KVS's key layout
    def delivered() -> list[str]:
        found = s3.list_objects_v2(Bucket=DELIVERY_BUCKET, Prefix=f"{prefix}/").get("Contents", [])
        keys = [str(item["Key"]) for item in found]
        return keys if len(keys) >= 6 else []

    keys = sorted(eventually(delivered, timeout_s=120, what="six images were not delivered", interval_s=2))
    pattern = re.compile(rf"^{re.escape(prefix)}/\d{{12}}_{re.escape(stream)}_(\d+)_[0-9a-f-]{{36}}\.jpg$")
    times = [int(match.group(1)) for key in keys if (match := pattern.match(key))]
    assert times == [int(CLIP_START * 1000) + 1000 * n for n in range(6)], keys
    head = s3.head_object(Bucket=DELIVERY_BUCKET, Key=keys[0])
    assert head["ContentType"] == "image/jpeg"
    assert head["Metadata"]["aws_kinesisvideo_producer_timestamp"] == str(int(CLIP_START * 1000))
    # And no job is left behind in the media bucket
    media_bucket = str(keys_stack.values["DropZone"]).removeprefix("s3://").split("/", 1)[0]
    eventually(
        lambda: s3.list_objects_v2(Bucket=media_bucket, Prefix="generate/").get("KeyCount", 0) == 0,
        timeout_s=30,
        what="delivery job markers were left in the media bucket",
    )


def test_the_hourly_run_finishes_deleting_the_media_a_delete_stream_left(keys_stack: Deployment) -> None:
    # Given what a DeleteStream that ran out of its 10 s leaves in the media bucket: media and its purge record
    s3 = localstack_client(keys_stack, "s3")
    media_bucket = str(keys_stack.values["DropZone"]).removeprefix("s3://").split("/", 1)[0]
    media_id = f"{unique_stream('purged')}/1700000000000"
    leftovers = [f"media/{media_id}/fragments/{n}.1700000000000.1700000000000.2000.mkv" for n in range(3)]
    for key in [*leftovers, f"purge/{media_id}"]:
        s3.put_object(Bucket=media_bucket, Key=key, Body=b"")
    # When EventBridge's hourly event reaches the deployed delivery function
    resources = localstack_client(keys_stack, "cloudformation").describe_stack_resources(
        StackName=keys_stack.values["StackName"]
    )["StackResources"]
    function = next(
        r["PhysicalResourceId"]
        for r in resources
        if r["ResourceType"] == "AWS::Lambda::Function" and r["LogicalResourceId"].startswith("DeliveryFunction")
    )
    event = (Path(__file__).resolve().parents[1] / "events" / "scheduled_sweep_event.json").read_bytes()
    answer = localstack_client(keys_stack, "lambda").invoke(FunctionName=function, Payload=event)
    # Then it reports the stream purged, and neither its media nor its purge record is left
    assert "FunctionError" not in answer, answer["Payload"].read()
    counts = json.loads(answer["Payload"].read())
    assert counts["deleted_streams_purged"] >= 1
    left = [
        item["Key"]
        for prefix in (f"media/{media_id}/", f"purge/{media_id}")
        for item in s3.list_objects_v2(Bucket=media_bucket, Prefix=prefix).get("Contents", [])
    ]
    assert left == []
