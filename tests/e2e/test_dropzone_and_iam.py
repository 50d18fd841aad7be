"""The S3 drop zone of the deployed stack, and the IAM-mode deployment with Stillframe's own client."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stillframe.client import clients
from tests.e2e.conftest import (
    CLIP_FPS,
    CLIP_START,
    Deployment,
    eventually,
    frames_between,
    localstack_client,
    put_media,
    sdk_client,
    unique_stream,
)

pytestmark = pytest.mark.e2e


def bucket_and_prefix(deployment: Deployment) -> tuple[str, str]:
    drop_zone = str(deployment.values["DropZone"])  # s3://<bucket>/<prefix>incoming/
    bucket, _, prefix = drop_zone.removeprefix("s3://").partition("/")
    return bucket, prefix


def dead_letter_queue_url(deployment: Deployment) -> str:
    cloudformation = localstack_client(deployment, "cloudformation")
    resources = cloudformation.describe_stack_resources(StackName=deployment.values["StackName"])["StackResources"]
    queues = [r for r in resources if r["ResourceType"] == "AWS::SQS::Queue" and "Ingest" in r["LogicalResourceId"]]
    assert len(queues) == 1, [r["LogicalResourceId"] for r in resources if r["ResourceType"] == "AWS::SQS::Queue"]
    return str(queues[0]["PhysicalResourceId"])


def test_drop_zone_upload_becomes_fragments(keys_stack: Deployment, clip_file, cleanup_streams) -> None:
    kinesisvideo = sdk_client(keys_stack, "kinesisvideo")
    archived = sdk_client(keys_stack, "kinesis-video-archived-media")
    stream = unique_stream("drop")
    kinesisvideo.create_stream(StreamName=stream, DataRetentionInHours=1)
    cleanup_streams.append(stream)
    bucket, incoming = bucket_and_prefix(keys_stack)
    s3 = localstack_client(keys_stack, "s3")
    # The producer start comes from the file name (epoch seconds, then an underscore).
    key = f"{incoming}{stream}/{int(CLIP_START)}_lobby.mkv"
    s3.put_object(Bucket=bucket, Key=key, Body=clip_file.read_bytes())

    def all_stored() -> list[dict[str, Any]] | None:
        # The function stores the fragments one after another: wait for all of them, not the first one
        found = archived.list_fragments(StreamName=stream)["Fragments"]
        return found if len(found) >= 3 else None

    eventually(all_stored, timeout_s=60, what="the drop-zone upload did not become 3 fragments")
    eventually(
        lambda: "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix=key),
        timeout_s=30,
        what="the ingested upload was not removed from the drop zone",
    )
    assert frames_between(archived, stream, 2.5, 3.5) == [int(2.5 * CLIP_FPS), int(3.5 * CLIP_FPS)]


def test_drop_zone_bad_file_lands_in_dead_letter_queue(keys_stack: Deployment, cleanup_streams) -> None:
    kinesisvideo = sdk_client(keys_stack, "kinesisvideo")
    stream = unique_stream("junk")
    kinesisvideo.create_stream(StreamName=stream, DataRetentionInHours=1)
    cleanup_streams.append(stream)
    bucket, incoming = bucket_and_prefix(keys_stack)
    key = f"{incoming}{stream}/not-a-video.mkv"
    localstack_client(keys_stack, "s3").put_object(Bucket=bucket, Key=key, Body=b"this is not a video" * 100)
    sqs = localstack_client(keys_stack, "sqs")
    queue = dead_letter_queue_url(keys_stack)

    def failed_event() -> dict | None:
        for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=2).get(
            "Messages", []
        ):
            body = json.loads(message["Body"])
            if key in json.dumps(body):
                return body
        return None

    body = eventually(failed_event, timeout_s=90, what="the bad upload did not reach the dead-letter queue")
    assert body["requestContext"]["condition"] == "RetriesExhausted"
    assert "MediaError" in json.dumps(body["responsePayload"])


def test_iam_mode_with_stillframe_client(iam_stack: Deployment, clip_file) -> None:
    # In IAM mode clients sign for execute-api (LocalStack accepts any signature there; real AWS checks it).
    stream = unique_stream("iam")
    env = iam_stack.client_env(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test")
    put_media(iam_stack, stream, clip_file, "--signing-name", "execute-api", env=env)
    import boto3

    session = boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name=iam_stack.region)
    kinesisvideo, archived = clients(iam_stack.api_url, session=session, signing_name="execute-api")
    assert kinesisvideo.describe_stream(StreamName=stream)["StreamInfo"]["Status"] == "ACTIVE"
    assert frames_between(archived, stream, 0.5, 2.5) == [12, 37, 62]
