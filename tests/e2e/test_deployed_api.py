"""The deployed API (keys mode) through API Gateway and the deployed functions, with unmodified boto3 clients."""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime

import boto3
import botocore.exceptions
import pytest
from PIL import Image

from tests.e2e.conftest import CLIP_FPS, CLIP_SECONDS, CLIP_START, Deployment, sdk_client, unique_stream
from tests.support.synth import read_frame_number

pytestmark = pytest.mark.e2e


def numbers(images: list[dict]) -> list[int | str]:
    return [
        read_frame_number(base64.b64decode(i["ImageContent"])) if "ImageContent" in i else i["Error"] for i in images
    ]


def on_screen(t: float) -> int:
    """The clip's frame on screen at producer time ``t`` (computed in whole milliseconds, as the API has them)."""
    return round((t - CLIP_START) * 1000) * CLIP_FPS // 1000


def images_request(stream: str, **extra: object) -> dict:
    return {
        "StreamName": stream,
        "ImageSelectorType": "PRODUCER_TIMESTAMP",
        "StartTimestamp": CLIP_START + 0.52,
        "EndTimestamp": CLIP_START + 5.9,
        "SamplingInterval": 1000,
        "Format": "JPEG",
        **extra,
    }


def test_stream_lifecycle(keys_stack: Deployment) -> None:
    # Given an unmodified kinesisvideo client signing for its own service with a Stillframe key
    kinesisvideo = sdk_client(keys_stack, "kinesisvideo")
    name = unique_stream("life")
    # When a stream is created, described, listed and deleted
    arn = kinesisvideo.create_stream(StreamName=name, DataRetentionInHours=2)["StreamARN"]
    info = kinesisvideo.describe_stream(StreamARN=arn)["StreamInfo"]
    listed = [
        s["StreamName"]
        for page in kinesisvideo.get_paginator("list_streams").paginate(
            StreamNameCondition={"ComparisonOperator": "BEGINS_WITH", "ComparisonValue": name}
        )
        for s in page["StreamInfoList"]
    ]
    kinesisvideo.delete_stream(StreamARN=arn, CurrentVersion=info["Version"])
    # Then each call saw the stream, and it is gone afterwards
    assert info["StreamName"] == name and info["Status"] == "ACTIVE" and info["DataRetentionInHours"] == 2
    assert listed == [name]
    with pytest.raises(kinesisvideo.exceptions.ResourceNotFoundException):
        kinesisvideo.describe_stream(StreamName=name)


def test_modeled_errors(keys_stack: Deployment, ingested_stream: str) -> None:
    kinesisvideo = sdk_client(keys_stack, "kinesisvideo")
    archived = sdk_client(keys_stack, "kinesis-video-archived-media")
    with pytest.raises(kinesisvideo.exceptions.ResourceInUseException):
        kinesisvideo.create_stream(StreamName=ingested_stream)
    with pytest.raises(kinesisvideo.exceptions.InvalidArgumentException):
        kinesisvideo.create_stream(StreamName="bad name!")
    with pytest.raises(kinesisvideo.exceptions.VersionMismatchException):
        arn = kinesisvideo.describe_stream(StreamName=ingested_stream)["StreamInfo"]["StreamARN"]
        kinesisvideo.delete_stream(StreamARN=arn, CurrentVersion="stale")
    with pytest.raises(archived.exceptions.ResourceNotFoundException):
        archived.get_images(**images_request("nobody-here"))
    with pytest.raises(archived.exceptions.InvalidArgumentException) as bad_range:
        archived.get_images(**images_request(ingested_stream, EndTimestamp=CLIP_START + 400))
    assert "EndTimestamp" in str(bad_range.value)
    with pytest.raises(archived.exceptions.InvalidArgumentException):
        archived.get_images(**images_request(ingested_stream, NextToken="AAAAforged"))
    with pytest.raises(botocore.exceptions.ClientError) as width_only:
        archived.get_images(**images_request(ingested_stream, WidthPixels=100))
    assert width_only.value.response["Error"]["Code"] == "ValidationException"
    assert width_only.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_get_images_frame_accurate_with_paginator(keys_stack: Deployment, ingested_stream: str) -> None:
    archived = sdk_client(keys_stack, "kinesis-video-archived-media")
    request = images_request(ingested_stream, SamplingInterval=500, EndTimestamp=CLIP_START + CLIP_SECONDS + 0.6)
    pages = list(archived.get_paginator("get_images").paginate(**request, PaginationConfig={"PageSize": 4}))
    images = [image for page in pages for image in page["Images"]]
    times = [CLIP_START + 0.52 + 0.5 * k for k in range(len(images))]
    # Every sample within the clip is the frame on screen then; samples after its end are NO_MEDIA.
    expected = [on_screen(t) if t < CLIP_START + CLIP_SECONDS else "NO_MEDIA" for t in times]
    assert len(images) == 13
    assert numbers(images) == expected
    assert [len(p["Images"]) for p in pages] == [4, 4, 4, 1]
    assert images[0]["TimeStamp"] == datetime.fromtimestamp(CLIP_START + 0.52, UTC)


def test_get_images_next_token_png_and_resize(keys_stack: Deployment, ingested_stream: str) -> None:
    archived = sdk_client(keys_stack, "kinesis-video-archived-media")
    request = images_request(ingested_stream, Format="PNG", WidthPixels=160, HeightPixels=120, MaxResults=2)
    first = archived.get_images(**request)
    second = archived.get_images(**request, NextToken=first["NextToken"])
    images = first["Images"] + second["Images"]
    assert numbers(images) == [on_screen(CLIP_START + 0.52 + k) for k in range(4)]
    for image in images:
        picture = Image.open(io.BytesIO(base64.b64decode(image["ImageContent"])))
        assert (picture.format, picture.size) == ("PNG", (160, 120))


def test_list_fragments(keys_stack: Deployment, ingested_stream: str) -> None:
    archived = sdk_client(keys_stack, "kinesis-video-archived-media")
    fragments = [
        f
        for page in archived.get_paginator("list_fragments").paginate(
            StreamName=ingested_stream, PaginationConfig={"PageSize": 2}
        )
        for f in page["Fragments"]
    ]
    starts = sorted(f["ProducerTimestamp"].timestamp() for f in fragments)
    # put-media cuts at key frames into ~2 s fragments: they tile the clip from its first frame.
    assert len(fragments) >= 3 and starts[0] == pytest.approx(CLIP_START, abs=1e-3)
    total_ms = sum(f["FragmentLengthInMilliseconds"] for f in fragments)
    assert total_ms == pytest.approx(CLIP_SECONDS * 1000, abs=50)


def test_data_endpoint_is_usable(keys_stack: Deployment, ingested_stream: str) -> None:
    # The KVS way: ask the control plane where GetImages lives, then call it there.
    kinesisvideo = sdk_client(keys_stack, "kinesisvideo")
    endpoint = kinesisvideo.get_data_endpoint(StreamName=ingested_stream, APIName="GET_IMAGES")["DataEndpoint"]
    assert endpoint.rstrip("/") == keys_stack.api_url.rstrip("/")
    archived = boto3_client_at(keys_stack, endpoint)
    page = archived.get_images(**images_request(ingested_stream, EndTimestamp=CLIP_START + 1.6))
    assert numbers(page["Images"]) == [on_screen(CLIP_START + 0.52), on_screen(CLIP_START + 1.52)]


def boto3_client_at(deployment: Deployment, endpoint: str):
    return boto3.session.Session().client(
        "kinesis-video-archived-media",
        endpoint_url=endpoint,
        region_name=deployment.region,
        aws_access_key_id=deployment.values["AccessKeyId"],
        aws_secret_access_key=deployment.values["SecretAccessKey"],
        verify=deployment.ca_bundle,
    )
