"""Unmodified boto3 against a real `stillframe serve`: UpdateDataRetention, UpdateStream, the tag operations."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import botocore.exceptions
import pytest

from tests.compat.test_boto3_clients import CREDS, NO_RETRY
from tests.conftest import T0
from tests.support.serve import put_media_cli


@pytest.fixture(scope="module")
def kinesisvideo(server):
    return boto3.client("kinesisvideo", endpoint_url=server, config=NO_RETRY, **CREDS)


def _version(kinesisvideo, name):
    return kinesisvideo.describe_stream(StreamName=name)["StreamInfo"]["Version"]


def test_update_data_retention_and_update_stream(kinesisvideo):
    arn = kinesisvideo.create_stream(StreamName="adm-ret", DataRetentionInHours=1)["StreamARN"]
    before = _version(kinesisvideo, "adm-ret")
    kinesisvideo.update_data_retention(
        StreamName="adm-ret",
        CurrentVersion=before,
        Operation="INCREASE_DATA_RETENTION",
        DataRetentionChangeInHours=5,
    )
    middle = _version(kinesisvideo, "adm-ret")
    kinesisvideo.update_stream(StreamARN=arn, CurrentVersion=middle, DeviceName="door", MediaType="video/h264")
    info = kinesisvideo.describe_stream(StreamARN=arn)["StreamInfo"]
    assert (info["DataRetentionInHours"], info["DeviceName"], info["MediaType"]) == (6, "door", "video/h264")
    assert len({before, middle, info["Version"]}) == 3
    kinesisvideo.update_data_retention(
        StreamARN=arn,
        CurrentVersion=info["Version"],
        Operation="DECREASE_DATA_RETENTION",
        DataRetentionChangeInHours=6,
    )
    assert kinesisvideo.describe_stream(StreamARN=arn)["StreamInfo"]["DataRetentionInHours"] == 0


def test_update_errors_raise_their_modeled_classes(kinesisvideo):
    kinesisvideo.create_stream(StreamName="adm-errs", DataRetentionInHours=1)
    version = _version(kinesisvideo, "adm-errs")
    change = {"Operation": "DECREASE_DATA_RETENTION", "DataRetentionChangeInHours": 1}
    with pytest.raises(kinesisvideo.exceptions.VersionMismatchException):
        kinesisvideo.update_data_retention(StreamName="adm-errs", CurrentVersion="stale", **change)
    with pytest.raises(kinesisvideo.exceptions.VersionMismatchException):
        kinesisvideo.update_stream(StreamName="adm-errs", CurrentVersion="stale", DeviceName="x")
    with pytest.raises(kinesisvideo.exceptions.InvalidArgumentException, match="below 0"):
        kinesisvideo.update_data_retention(
            StreamName="adm-errs",
            CurrentVersion=version,
            Operation="DECREASE_DATA_RETENTION",
            DataRetentionChangeInHours=2,
        )
    with pytest.raises(kinesisvideo.exceptions.InvalidArgumentException, match="MediaType"):
        kinesisvideo.update_stream(StreamName="adm-errs", CurrentVersion=version, MediaType="no-slash")
    with pytest.raises(kinesisvideo.exceptions.ResourceNotFoundException):
        kinesisvideo.update_data_retention(StreamName="adm-missing", CurrentVersion=version, **change)
    with pytest.raises(kinesisvideo.exceptions.ResourceNotFoundException):
        kinesisvideo.update_stream(StreamName="adm-missing", CurrentVersion=version)
    assert _version(kinesisvideo, "adm-errs") == version


def test_stream_tags_round_trip_and_keep_create_stream_tags(kinesisvideo):
    arn = kinesisvideo.create_stream(StreamName="adm-tags", Tags={"owner": "ops"})["StreamARN"]
    before = _version(kinesisvideo, "adm-tags")
    kinesisvideo.tag_stream(StreamName="adm-tags", Tags={"floor": "2", "owner": "video"})
    assert kinesisvideo.list_tags_for_stream(StreamARN=arn)["Tags"] == {"floor": "2", "owner": "video"}
    kinesisvideo.untag_stream(StreamARN=arn, TagKeyList=["floor", "absent"])
    assert kinesisvideo.list_tags_for_stream(StreamName="adm-tags")["Tags"] == {"owner": "video"}
    assert _version(kinesisvideo, "adm-tags") != before


def test_resource_tags_round_trip(kinesisvideo):
    arn = kinesisvideo.create_stream(StreamName="adm-res")["StreamARN"]
    kinesisvideo.tag_resource(ResourceARN=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": ""}])
    kinesisvideo.untag_resource(ResourceARN=arn, TagKeyList=["a"])
    assert kinesisvideo.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"b": ""}
    assert kinesisvideo.list_tags_for_stream(StreamName="adm-res")["Tags"] == {"b": ""}


def test_tag_errors_raise_their_modeled_classes(kinesisvideo):
    arn = kinesisvideo.create_stream(StreamName="adm-tagerr", Tags={f"k{i}": "" for i in range(50)})["StreamARN"]
    channel = arn.replace(":stream/", ":channel/")
    with pytest.raises(kinesisvideo.exceptions.TagsPerResourceExceededLimitException):
        kinesisvideo.tag_stream(StreamName="adm-tagerr", Tags={"one-more": ""})
    with pytest.raises(kinesisvideo.exceptions.TagsPerResourceExceededLimitException):
        kinesisvideo.tag_resource(ResourceARN=arn, Tags=[{"Key": "one-more", "Value": ""}])
    with pytest.raises(kinesisvideo.exceptions.InvalidResourceFormatException):
        kinesisvideo.list_tags_for_stream(StreamARN=channel)
    with pytest.raises(kinesisvideo.exceptions.InvalidArgumentException, match="Tags"):
        kinesisvideo.tag_stream(StreamName="adm-tagerr", Tags={"bad;key": "v"})
    with pytest.raises(kinesisvideo.exceptions.InvalidArgumentException, match="aws:"):
        kinesisvideo.tag_resource(ResourceARN=arn, Tags=[{"Key": "aws:cost", "Value": "x"}])
    with pytest.raises(kinesisvideo.exceptions.ResourceNotFoundException):
        kinesisvideo.untag_stream(StreamName="adm-nope", TagKeyList=["k0"])
    with pytest.raises(kinesisvideo.exceptions.ResourceNotFoundException):
        kinesisvideo.list_tags_for_resource(ResourceARN=channel)
    with pytest.raises(kinesisvideo.exceptions.ResourceNotFoundException):
        kinesisvideo.untag_resource(ResourceARN=arn.replace("/adm-tagerr/", "/adm-nope/"), TagKeyList=["k0"])
    assert len(kinesisvideo.list_tags_for_stream(StreamName="adm-tagerr")["Tags"]) == 50


def test_boto3_checks_the_tag_list_shape_itself(kinesisvideo):
    # boto3's own parameter validation catches an empty TagKeyList before sending: the server rule is for other SDKs
    with pytest.raises(botocore.exceptions.ParamValidationError):
        kinesisvideo.untag_stream(StreamName="adm-tags", TagKeyList=[])


def test_retention_raised_after_creation_makes_the_stream_usable_at_once(server, kinesisvideo, clip_factory, tmp_path):
    # Given a stream created with no retention: GetImages refuses it
    kinesisvideo.create_stream(StreamName="adm-late")
    endpoint = kinesisvideo.get_data_endpoint(StreamName="adm-late", APIName="GET_IMAGES")["DataEndpoint"]
    archived = boto3.client("kinesis-video-archived-media", endpoint_url=endpoint, config=NO_RETRY, **CREDS)
    window = {
        "StreamName": "adm-late",
        "ImageSelectorType": "PRODUCER_TIMESTAMP",
        "StartTimestamp": datetime.fromtimestamp(T0 + 0.5, UTC),
        "EndTimestamp": datetime.fromtimestamp(T0 + 1.5, UTC),
        "SamplingInterval": 500,
        "Format": "JPEG",
    }
    with pytest.raises(archived.exceptions.NoDataRetentionException):
        archived.get_images(**window)

    # When its retention is raised and media is sent with the real put-media CLI
    kinesisvideo.update_data_retention(
        StreamName="adm-late",
        CurrentVersion=_version(kinesisvideo, "adm-late"),
        Operation="INCREASE_DATA_RETENTION",
        DataRetentionChangeInHours=1,
    )
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(clip_factory(seconds=2, fps=10, gop=10, container="mp4"))
    put_media_cli(server, "adm-late", str(clip), "--producer-start-time", str(T0))

    # Then GetImages and ListFragments serve it
    images = archived.get_images(**window)["Images"]
    assert [("ImageContent" in image) for image in images] == [True, True, True]
    fragments = archived.list_fragments(StreamName="adm-late")["Fragments"]
    assert fragments
