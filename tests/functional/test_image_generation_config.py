"""The handler with API Gateway REST events: Update/DescribeImageGenerationConfiguration, stored on the stream."""

from __future__ import annotations

import pytest

CONFIG = {
    "Status": "ENABLED",
    "ImageSelectorType": "PRODUCER_TIMESTAMP",
    "DestinationConfig": {"Uri": "s3://stills-bucket/door", "DestinationRegion": "us-east-1"},
    "SamplingInterval": 1000,
    "Format": "JPEG",
    "FormatConfig": {"JPEGQuality": "90"},
    "WidthPixels": 320,
    "HeightPixels": 240,
}


def _version(invoke, name):
    return invoke("/describeStream", {"StreamName": name})["body"]["StreamInfo"]["Version"]


def _update(invoke, name, config):
    return invoke("/updateImageGenerationConfiguration", {"StreamName": name, "ImageGenerationConfiguration": config})


def test_configuration_is_stored_described_replaced_and_deleted(invoke):
    # Given a stream with retention and no configuration
    arn = invoke("/createStream", {"StreamName": "gen", "DataRetentionInHours": 1})["body"]["StreamARN"]
    empty = invoke("/describeImageGenerationConfiguration", {"StreamName": "gen"})
    before = _version(invoke, "gen")

    # When a configuration is set, then replaced by a DISABLED one, then deleted with a null one
    stored = _update(invoke, "gen", {**CONFIG, "Unknown": "ignored"})
    described = invoke("/describeImageGenerationConfiguration", {"StreamARN": arn})
    middle = _version(invoke, "gen")
    disabled = {k: v for k, v in CONFIG.items() if k not in ("FormatConfig", "WidthPixels", "HeightPixels")}
    _update(invoke, "gen", {**disabled, "Status": "DISABLED", "Format": "PNG"})
    replaced = invoke("/describeImageGenerationConfiguration", {"StreamName": "gen"})
    deleted = invoke("/updateImageGenerationConfiguration", {"StreamARN": arn})
    after = invoke("/describeImageGenerationConfiguration", {"StreamName": "gen"})

    # Then Describe shows exactly what was set, and each update advanced the stream's Version
    assert (empty["status"], empty["body"]) == (200, {})
    assert (stored["status"], stored["body"]) == (200, {})
    assert described["body"] == {"ImageGenerationConfiguration": CONFIG}
    assert replaced["body"]["ImageGenerationConfiguration"] == {**disabled, "Status": "DISABLED", "Format": "PNG"}
    assert (deleted["status"], after["body"]) == (200, {})
    assert len({before, middle, _version(invoke, "gen")}) == 3


def _without(name):
    return {k: v for k, v in CONFIG.items() if k != name}


@pytest.mark.parametrize(
    ("config", "named"),
    [
        (_without("Status"), "ImageGenerationConfiguration.Status"),
        ({**CONFIG, "Status": "ON"}, "ImageGenerationConfiguration.Status"),
        (_without("ImageSelectorType"), "ImageGenerationConfiguration.ImageSelectorType"),
        ({**CONFIG, "ImageSelectorType": "ARRIVAL"}, "ImageGenerationConfiguration.ImageSelectorType"),
        (_without("DestinationConfig"), "ImageGenerationConfiguration.DestinationConfig"),
        ({**CONFIG, "DestinationConfig": {"DestinationRegion": "us-east-1"}}, "DestinationConfig.Uri"),
        ({**CONFIG, "DestinationConfig": {"Uri": "s3://bkt"}}, "DestinationConfig.DestinationRegion"),
        ({**CONFIG, "DestinationConfig": {"Uri": "bucket", "DestinationRegion": "us-east-1"}}, "DestinationConfig.Uri"),
        (
            {**CONFIG, "DestinationConfig": {"Uri": "s3://b/*", "DestinationRegion": "us-east-1"}},
            "DestinationConfig.Uri",
        ),
        ({**CONFIG, "DestinationConfig": {"Uri": "https://b/x", "DestinationRegion": "us-east-1"}}, "not an S3 URI"),
        ({**CONFIG, "DestinationConfig": {"Uri": "s3://" + "b" * 251, "DestinationRegion": "us-east-1"}}, "Uri"),
        ({**CONFIG, "DestinationConfig": {"Uri": "s3://bkt", "DestinationRegion": "mars"}}, "DestinationRegion"),
        ({**CONFIG, "DestinationConfig": {"Uri": "s3://bkt", "DestinationRegion": "eu-west-1"}}, "us-east-1"),
        (_without("SamplingInterval"), "SamplingInterval"),
        ({**CONFIG, "SamplingInterval": 199}, "SamplingInterval"),
        ({**CONFIG, "SamplingInterval": 20_001}, "SamplingInterval"),
        ({**CONFIG, "SamplingInterval": "1000"}, "SamplingInterval"),
        (_without("Format"), "ImageGenerationConfiguration.Format"),
        ({**CONFIG, "Format": "GIF"}, "ImageGenerationConfiguration.Format"),
        ({**CONFIG, "FormatConfig": {}}, "FormatConfig"),
        ({**CONFIG, "FormatConfig": {"Quality": "80"}}, "FormatConfig"),
        ({**CONFIG, "FormatConfig": {"JPEGQuality": "0"}}, "JPEGQuality"),
        ({**CONFIG, "FormatConfig": {"JPEGQuality": "101"}}, "JPEGQuality"),
        ({**CONFIG, "FormatConfig": {"JPEGQuality": "high"}}, "JPEGQuality"),
        ({**CONFIG, "WidthPixels": 0}, "WidthPixels"),
        ({**CONFIG, "WidthPixels": 3841}, "WidthPixels"),
        ({**CONFIG, "HeightPixels": 2161}, "HeightPixels"),
        ("ENABLED", "ImageGenerationConfiguration"),
    ],
)
def test_every_field_is_validated(invoke, config, named):
    invoke("/createStream", {"StreamName": "genbad", "DataRetentionInHours": 1})
    version = _version(invoke, "genbad")
    refused = _update(invoke, "genbad", config)
    assert (refused["status"], refused["body"]["__type"]) == (400, "InvalidArgumentException")
    assert named in refused["body"]["message"]
    assert invoke("/describeImageGenerationConfiguration", {"StreamName": "genbad"})["body"] == {}
    assert _version(invoke, "genbad") == version


def test_enabling_on_a_stream_without_retention_is_no_data_retention(invoke):
    invoke("/createStream", {"StreamName": "gen0"})
    refused = _update(invoke, "gen0", CONFIG)
    allowed = _update(invoke, "gen0", {**CONFIG, "Status": "DISABLED"})
    assert (refused["status"], refused["body"]["__type"]) == (400, "NoDataRetentionException")
    assert allowed["status"] == 200


def test_unknown_stream_is_not_found_and_no_stream_is_invalid(invoke):
    assert _update(invoke, "nope", CONFIG)["status"] == 404
    assert invoke("/describeImageGenerationConfiguration", {"StreamName": "nope"})["status"] == 404
    missing = invoke("/describeImageGenerationConfiguration", {})
    assert (missing["status"], missing["body"]["__type"]) == (400, "InvalidArgumentException")


def test_configuration_outlives_other_updates(invoke):
    invoke("/createStream", {"StreamName": "genkeep", "DataRetentionInHours": 1})
    _update(invoke, "genkeep", CONFIG)
    invoke("/tagStream", {"StreamName": "genkeep", "Tags": {"a": "b"}})
    invoke("/updateStream", {"StreamName": "genkeep", "CurrentVersion": _version(invoke, "genkeep"), "DeviceName": "d"})
    described = invoke("/describeImageGenerationConfiguration", {"StreamName": "genkeep"})
    assert described["body"] == {"ImageGenerationConfiguration": CONFIG}
