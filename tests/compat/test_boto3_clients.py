"""Unmodified boto3 clients against a real `stillframe serve`: every operation, every reachable error class."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from tests.conftest import T0
from tests.support.serve import put_media_cli
from tests.support.synth import read_frame_number

START = datetime.fromtimestamp(T0, UTC)
CREDS = {"aws_access_key_id": "test", "aws_secret_access_key": "test", "region_name": "us-east-1"}
NO_RETRY = Config(retries={"max_attempts": 1, "mode": "standard"})


@pytest.fixture(scope="module")
def kinesisvideo(server):
    return boto3.client("kinesisvideo", endpoint_url=server, config=NO_RETRY, **CREDS)


@pytest.fixture(scope="module")
def media_stream(server, kinesisvideo, clip_factory, tmp_path_factory):
    """A stream holding 12 s of video from T0, ingested with the real `stillframe put-media` CLI."""
    clip = tmp_path_factory.mktemp("clip") / "clip.mp4"
    clip.write_bytes(clip_factory(seconds=12, fps=25, gop=50, container="mp4"))
    put_media_cli(server, "compat", str(clip), "--retention-hours", "2", "--producer-start-time", str(T0))
    return "compat"


@pytest.fixture(scope="module")
def archived(kinesisvideo, media_stream):
    endpoint = kinesisvideo.get_data_endpoint(StreamName=media_stream, APIName="GET_IMAGES")["DataEndpoint"]
    return boto3.client("kinesis-video-archived-media", endpoint_url=endpoint, config=NO_RETRY, **CREDS)


def numbers(images):
    return [
        read_frame_number(base64.b64decode(i["ImageContent"])) if "ImageContent" in i else i["Error"] for i in images
    ]


def test_stream_operations(kinesisvideo):
    arn = kinesisvideo.create_stream(StreamName="ops", DataRetentionInHours=1)["StreamARN"]
    info = kinesisvideo.describe_stream(StreamARN=arn)["StreamInfo"]
    assert info["StreamName"] == "ops" and info["Status"] == "ACTIVE"
    assert isinstance(info["CreationTime"], datetime)
    names = [
        s["StreamName"]
        for page in kinesisvideo.get_paginator("list_streams").paginate(
            StreamNameCondition={"ComparisonOperator": "BEGINS_WITH", "ComparisonValue": "op"}
        )
        for s in page["StreamInfoList"]
    ]
    assert names == ["ops"]
    kinesisvideo.delete_stream(StreamARN=arn, CurrentVersion=info["Version"])
    with pytest.raises(kinesisvideo.exceptions.ResourceNotFoundException):
        kinesisvideo.describe_stream(StreamName="ops")


def test_control_plane_errors(kinesisvideo):
    kinesisvideo.create_stream(StreamName="errs")
    with pytest.raises(kinesisvideo.exceptions.ResourceInUseException):
        kinesisvideo.create_stream(StreamName="errs")
    with pytest.raises(kinesisvideo.exceptions.InvalidArgumentException):
        kinesisvideo.create_stream(StreamName="bad name!")
    arn = kinesisvideo.describe_stream(StreamName="errs")["StreamInfo"]["StreamARN"]
    with pytest.raises(kinesisvideo.exceptions.VersionMismatchException):
        kinesisvideo.delete_stream(StreamARN=arn, CurrentVersion="stale")
    with pytest.raises(kinesisvideo.exceptions.ResourceNotFoundException):
        kinesisvideo.get_data_endpoint(StreamName="missing", APIName="GET_IMAGES")


def test_data_endpoint_is_the_server(kinesisvideo, media_stream, server):
    answer = kinesisvideo.get_data_endpoint(StreamName=media_stream, APIName="GET_IMAGES")
    assert answer["DataEndpoint"] == server.rstrip("/")


def test_get_images_frame_accurate(archived, media_stream):
    answer = archived.get_images(
        StreamName=media_stream,
        ImageSelectorType="PRODUCER_TIMESTAMP",
        StartTimestamp=T0 + 0.5,
        EndTimestamp=T0 + 11.5,
        SamplingInterval=1000,
        Format="JPEG",
        HeightPixels=120,
    )
    assert numbers(answer["Images"]) == [12 + 25 * k for k in range(12)]
    assert answer["Images"][0]["TimeStamp"] == datetime.fromtimestamp(T0 + 0.5, UTC)
    assert "NextToken" not in answer


def test_get_images_paginator(archived, media_stream):
    pages = list(
        archived.get_paginator("get_images").paginate(
            StreamName=media_stream,
            ImageSelectorType="PRODUCER_TIMESTAMP",
            StartTimestamp=START,
            EndTimestamp=datetime.fromtimestamp(T0 + 11.96, UTC),
            SamplingInterval=200,
            Format="JPEG",
            HeightPixels=60,
            PaginationConfig={"PageSize": 25},
        )
    )
    images = [i for page in pages for i in page["Images"]]
    assert [len(p["Images"]) for p in pages] == [25, 25, 10]
    assert numbers(images) == [5 * k for k in range(60)]


def test_list_fragments(archived, media_stream):
    fragments = archived.list_fragments(
        StreamName=media_stream,
        FragmentSelector={
            "FragmentSelectorType": "PRODUCER_TIMESTAMP",
            "TimestampRange": {"StartTimestamp": START, "EndTimestamp": datetime.fromtimestamp(T0 + 60, UTC)},
        },
    )
    assert sorted(f["ProducerTimestamp"].timestamp() for f in fragments["Fragments"]) == [T0 + 2 * k for k in range(6)]
    paged = [
        f
        for page in archived.get_paginator("list_fragments").paginate(
            StreamName=media_stream, PaginationConfig={"PageSize": 4}
        )
        for f in page["Fragments"]
    ]
    assert len(paged) == 6


def test_get_images_errors(archived, kinesisvideo, media_stream):
    base = dict(
        ImageSelectorType="PRODUCER_TIMESTAMP",
        StartTimestamp=T0,
        EndTimestamp=T0 + 1,
        Format="JPEG",
        SamplingInterval=1000,
    )
    with pytest.raises(archived.exceptions.ResourceNotFoundException):
        archived.get_images(StreamName="nobody", **base)
    with pytest.raises(archived.exceptions.InvalidArgumentException) as bad_range:
        archived.get_images(StreamName=media_stream, **{**base, "EndTimestamp": T0 + 400})
    assert "EndTimestamp" in str(bad_range.value)
    with pytest.raises(archived.exceptions.InvalidArgumentException):
        archived.get_images(StreamName=media_stream, **{**base, "SamplingInterval": 100})
    with pytest.raises(archived.exceptions.InvalidArgumentException):
        archived.get_images(StreamName=media_stream, NextToken="AAAAforged", **base)
    with pytest.raises(botocore.exceptions.ClientError) as width_only:
        archived.get_images(StreamName=media_stream, WidthPixels=100, **base)
    assert width_only.value.response["Error"]["Code"] == "ValidationException"
    kinesisvideo.create_stream(StreamName="no-retention")
    with pytest.raises(archived.exceptions.NoDataRetentionException):
        archived.get_images(StreamName="no-retention", **base)


def test_list_fragments_unknown_stream(archived):
    with pytest.raises(archived.exceptions.ResourceNotFoundException):
        archived.list_fragments(StreamName="nobody")


def test_an_operation_this_server_lacks_is_not_mistaken_for_a_missing_stream(kinesisvideo, media_stream):
    # Given a stream that exists, and an operation of the SDK that has no route here
    # When boto3 calls it
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        kinesisvideo.describe_notification_configuration(StreamName=media_stream)
    # Then the error says the operation is unknown, not that the stream is not found
    error = caught.value.response["Error"]
    assert error["Code"] == "UnknownOperationException", error
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert "ResourceNotFound" not in error["Code"] and "describeNotificationConfiguration" in error["Message"]
