"""Unmodified boto3 against a real `stillframe serve`: Update/DescribeImageGenerationConfiguration."""

from __future__ import annotations

import boto3
import pytest

from tests.compat.test_boto3_clients import CREDS, NO_RETRY

CONFIG = {
    "Status": "ENABLED",
    "ImageSelectorType": "SERVER_TIMESTAMP",
    "DestinationConfig": {"Uri": "s3://stills/lobby", "DestinationRegion": "us-east-1"},
    "SamplingInterval": 2000,
    "Format": "PNG",
    "HeightPixels": 480,
}


@pytest.fixture(scope="module")
def kinesisvideo(server):
    return boto3.client("kinesisvideo", endpoint_url=server, config=NO_RETRY, **CREDS)


def test_configuration_round_trips_and_is_deleted_without_one(kinesisvideo):
    arn = kinesisvideo.create_stream(StreamName="gen-rt", DataRetentionInHours=1)["StreamARN"]
    assert "ImageGenerationConfiguration" not in kinesisvideo.describe_image_generation_configuration(StreamARN=arn)
    before = kinesisvideo.describe_stream(StreamARN=arn)["StreamInfo"]["Version"]
    kinesisvideo.update_image_generation_configuration(StreamName="gen-rt", ImageGenerationConfiguration=CONFIG)
    described = kinesisvideo.describe_image_generation_configuration(StreamName="gen-rt")
    assert described["ImageGenerationConfiguration"] == CONFIG
    assert kinesisvideo.describe_stream(StreamARN=arn)["StreamInfo"]["Version"] != before
    kinesisvideo.update_image_generation_configuration(StreamARN=arn)
    assert "ImageGenerationConfiguration" not in kinesisvideo.describe_image_generation_configuration(StreamARN=arn)


def test_errors_raise_their_modeled_classes(kinesisvideo):
    kinesisvideo.create_stream(StreamName="gen-none")
    with pytest.raises(kinesisvideo.exceptions.NoDataRetentionException):
        kinesisvideo.update_image_generation_configuration(StreamName="gen-none", ImageGenerationConfiguration=CONFIG)
    with pytest.raises(kinesisvideo.exceptions.InvalidArgumentException, match="SamplingInterval"):
        kinesisvideo.update_image_generation_configuration(
            StreamName="gen-none", ImageGenerationConfiguration={**CONFIG, "SamplingInterval": 100}
        )
    wrong_region = {**CONFIG, "DestinationConfig": {"Uri": "s3://stills", "DestinationRegion": "eu-west-1"}}
    with pytest.raises(kinesisvideo.exceptions.InvalidArgumentException, match="Region"):
        kinesisvideo.update_image_generation_configuration(
            StreamName="gen-none", ImageGenerationConfiguration=wrong_region
        )
    with pytest.raises(kinesisvideo.exceptions.ResourceNotFoundException):
        kinesisvideo.update_image_generation_configuration(
            StreamName="gen-missing", ImageGenerationConfiguration=CONFIG
        )
    with pytest.raises(kinesisvideo.exceptions.ResourceNotFoundException):
        kinesisvideo.describe_image_generation_configuration(StreamName="gen-missing")
