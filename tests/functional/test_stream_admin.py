"""The handler with API Gateway REST events: UpdateDataRetention, UpdateStream and the six tag operations."""

from __future__ import annotations

import pytest

from tests.conftest import T0


def _create(invoke, name, **fields):
    arn = invoke("/createStream", {"StreamName": name, **fields})["body"]["StreamARN"]
    return arn, _info(invoke, name)["Version"]


def _info(invoke, name):
    return invoke("/describeStream", {"StreamName": name})["body"]["StreamInfo"]


def _error(answer):
    return answer["status"], answer["body"]["__type"]


def test_update_data_retention_increases_and_decreases_and_advances_the_version(invoke):
    # Given a stream with 24 h retention
    arn, version = _create(invoke, "ret", DataRetentionInHours=24)

    # When retention is increased by 48 h (by name) and then decreased by 70 h (by ARN)
    up = invoke(
        "/updateDataRetention",
        {
            "StreamName": "ret",
            "CurrentVersion": version,
            "Operation": "INCREASE_DATA_RETENTION",
            "DataRetentionChangeInHours": 48,
        },
    )
    after_up = _info(invoke, "ret")
    down = invoke(
        "/updateDataRetention",
        {
            "StreamARN": arn,
            "CurrentVersion": after_up["Version"],
            "Operation": "DECREASE_DATA_RETENTION",
            "DataRetentionChangeInHours": 70,
        },
    )
    after_down = _info(invoke, "ret")

    # Then each answers {} and DescribeStream shows the new retention under a new Version each time
    assert (up["status"], up["body"], after_up["DataRetentionInHours"]) == (200, {}, 72)
    assert (down["status"], down["body"], after_down["DataRetentionInHours"]) == (200, {}, 2)
    assert len({version, after_up["Version"], after_down["Version"]}) == 3
    assert after_down["StreamARN"] == arn and after_down["CreationTime"] == after_up["CreationTime"]


@pytest.mark.parametrize(
    ("operation", "change", "why"),
    [
        ("DECREASE_DATA_RETENTION", 25, "below 0"),
        ("INCREASE_DATA_RETENTION", 87_600 - 23, "above the maximum of 87600"),
    ],
)
def test_update_data_retention_outside_0_to_87600_hours_is_refused(invoke, operation, change, why):
    _, version = _create(invoke, "bounds", DataRetentionInHours=24)
    body = {"StreamName": "bounds", "CurrentVersion": version, "Operation": operation}
    refused = invoke("/updateDataRetention", {**body, "DataRetentionChangeInHours": change})
    assert _error(refused) == (400, "InvalidArgumentException")
    assert why in refused["body"]["message"]
    assert _info(invoke, "bounds")["DataRetentionInHours"] == 24
    assert _info(invoke, "bounds")["Version"] == version


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"Operation": "INCREASE_DATA_RETENTION", "DataRetentionChangeInHours": 1}, "CurrentVersion"),
        ({"CurrentVersion": "v1", "DataRetentionChangeInHours": 1}, "Operation"),
        ({"CurrentVersion": "v1", "Operation": "INCREASE_DATA_RETENTION"}, "DataRetentionChangeInHours"),
        ({"CurrentVersion": "v1", "Operation": "GROW", "DataRetentionChangeInHours": 1}, "Operation"),
        (
            {"CurrentVersion": "v1", "Operation": "INCREASE_DATA_RETENTION", "DataRetentionChangeInHours": 0},
            "DataRetentionChangeInHours",
        ),
        (
            {"CurrentVersion": "v-1", "Operation": "INCREASE_DATA_RETENTION", "DataRetentionChangeInHours": 1},
            "CurrentVersion",
        ),
    ],
)
def test_update_data_retention_validates_every_field(invoke, fields, named):
    _create(invoke, "valid")
    refused = invoke("/updateDataRetention", {"StreamName": "valid", **fields})
    assert _error(refused) == (400, "InvalidArgumentException")
    assert named in refused["body"]["message"]


def test_stale_version_is_a_version_mismatch_and_changes_nothing(invoke):
    _, version = _create(invoke, "stale", DataRetentionInHours=1)
    body = {"StreamName": "stale", "Operation": "INCREASE_DATA_RETENTION", "DataRetentionChangeInHours": 1}
    assert invoke("/updateDataRetention", {**body, "CurrentVersion": version})["status"] == 200
    again = invoke("/updateDataRetention", {**body, "CurrentVersion": version})  # the version it had before
    stream = invoke("/updateStream", {"StreamName": "stale", "CurrentVersion": version, "DeviceName": "cam"})
    assert _error(again) == (400, "VersionMismatchException")
    assert _error(stream) == (400, "VersionMismatchException")
    assert _info(invoke, "stale")["DataRetentionInHours"] == 2
    assert "DeviceName" not in _info(invoke, "stale")


def test_updates_of_unknown_streams_are_not_found(invoke):
    arn, _ = _create(invoke, "known")
    retention = {"CurrentVersion": "v1", "Operation": "INCREASE_DATA_RETENTION", "DataRetentionChangeInHours": 1}
    for answer in (
        invoke("/updateDataRetention", {"StreamName": "nope", **retention}),
        invoke("/updateDataRetention", {"StreamARN": arn.rsplit("/", 1)[0] + "/1", **retention}),
        invoke("/updateStream", {"StreamName": "nope", "CurrentVersion": "v1"}),
        invoke("/tagStream", {"StreamName": "nope", "Tags": {"a": "b"}}),
        invoke("/untagStream", {"StreamName": "nope", "TagKeyList": ["a"]}),
        invoke("/listTagsForStream", {"StreamName": "nope"}),
        invoke("/TagResource", {"ResourceARN": arn.replace("/known/", "/nope/"), "Tags": [{"Key": "a", "Value": ""}]}),
        invoke("/UntagResource", {"ResourceARN": arn.replace("/known/", "/nope/"), "TagKeyList": ["a"]}),
        invoke("/ListTagsForResource", {"ResourceARN": arn.replace("/known/", "/nope/")}),
    ):
        assert _error(answer) == (404, "ResourceNotFoundException")


def test_update_stream_sets_device_name_and_media_type_and_keeps_the_rest(invoke):
    _, version = _create(invoke, "meta", DataRetentionInHours=3, MediaType="video/h264", Tags={"site": "lobby"})
    first = invoke("/updateStream", {"StreamName": "meta", "CurrentVersion": version, "DeviceName": "door-cam"})
    middle = _info(invoke, "meta")
    second = invoke(
        "/updateStream", {"StreamName": "meta", "CurrentVersion": middle["Version"], "MediaType": "video/h265"}
    )
    info = _info(invoke, "meta")
    assert (first["status"], first["body"], second["status"], second["body"]) == (200, {}, 200, {})
    assert (info["DeviceName"], info["MediaType"], info["DataRetentionInHours"]) == ("door-cam", "video/h265", 3)
    assert len({version, middle["Version"], info["Version"]}) == 3
    assert invoke("/listTagsForStream", {"StreamName": "meta"})["body"] == {"Tags": {"site": "lobby"}}


@pytest.mark.parametrize(("field", "value"), [("DeviceName", "a b"), ("DeviceName", ""), ("MediaType", "h264")])
def test_update_stream_validates_its_fields(invoke, field, value):
    _, version = _create(invoke, "meta-bad")
    refused = invoke("/updateStream", {"StreamName": "meta-bad", "CurrentVersion": version, field: value})
    assert _error(refused) == (400, "InvalidArgumentException")
    assert field in refused["body"]["message"]


def test_tag_stream_untag_stream_and_list_keep_create_stream_tags(invoke):
    # Given a stream created with a tag
    _, version = _create(invoke, "tags", Tags={"owner": "ops"})

    # When tags are added (one replacing a value), then one removed and an absent key ignored
    tagged = invoke("/tagStream", {"StreamName": "tags", "Tags": {"owner": "video", "floor": "2", "empty": ""}})
    listed = invoke("/listTagsForStream", {"StreamName": "tags"})
    untagged = invoke("/untagStream", {"StreamName": "tags", "TagKeyList": ["floor", "never-set"]})
    after = invoke("/listTagsForStream", {"StreamName": "tags"})

    # Then the tags are as asked, and each write advanced the stream's Version
    assert (tagged["status"], tagged["body"], untagged["status"], untagged["body"]) == (200, {}, 200, {})
    assert listed["body"] == {"Tags": {"owner": "video", "floor": "2", "empty": ""}}
    assert after["body"] == {"Tags": {"owner": "video", "empty": ""}}
    assert _info(invoke, "tags")["Version"] != version


def test_tag_resource_family_works_on_a_stream_arn(invoke):
    arn, _ = _create(invoke, "res")
    tagged = invoke(
        "/TagResource", {"ResourceARN": arn, "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}
    )
    untagged = invoke("/UntagResource", {"ResourceARN": arn, "TagKeyList": ["a"]})
    listed = invoke("/ListTagsForResource", {"ResourceARN": arn})
    assert (tagged["status"], untagged["status"]) == (200, 200)
    assert listed["body"] == {"Tags": {"b": "2"}}
    assert invoke("/listTagsForStream", {"StreamARN": arn})["body"] == {"Tags": {"b": "2"}}


def test_more_than_50_tags_is_tags_per_resource_exceeded(invoke):
    arn, _ = _create(invoke, "many", Tags={f"k{i}": "v" for i in range(40)})
    refused = invoke("/tagStream", {"StreamName": "many", "Tags": {f"n{i}": "v" for i in range(11)}})
    refused_resource = invoke(
        "/TagResource", {"ResourceARN": arn, "Tags": [{"Key": f"n{i}", "Value": ""} for i in range(11)]}
    )
    replacing = invoke(
        "/tagStream",
        {
            "StreamName": "many",
            "Tags": {f"k{i}": "w" for i in range(40)} | {"n": "1"} | {f"m{i}": "" for i in range(9)},
        },
    )
    assert _error(refused) == (400, "TagsPerResourceExceededLimitException")
    assert _error(refused_resource) == (400, "TagsPerResourceExceededLimitException")
    assert replacing["status"] == 200  # replaced values do not count twice: exactly 50
    assert len(invoke("/listTagsForStream", {"StreamName": "many"})["body"]["Tags"]) == 50


@pytest.mark.parametrize(
    ("path", "body", "named"),
    [
        ("/tagStream", {"Tags": {}}, "Tags"),
        ("/tagStream", {"Tags": {f"k{i}": "" for i in range(51)}}, "Tags"),
        ("/tagStream", {"Tags": {"k" * 129: "v"}}, "Tags.key"),
        ("/tagStream", {"Tags": {"k": "v" * 257}}, "Tags.k"),
        ("/tagStream", {"Tags": {"semi;colon": "v"}}, "Tags.key"),
        ("/tagStream", {"Tags": {"k": "a*b"}}, "Tags.k"),
        ("/tagStream", {"Tags": {"aws:owner": "me"}}, "aws:"),
        ("/tagStream", {}, "Tags"),
        ("/untagStream", {"TagKeyList": []}, "TagKeyList"),
        ("/untagStream", {"TagKeyList": ["k"] * 51}, "TagKeyList"),
        ("/untagStream", {"TagKeyList": [""]}, "TagKeyList.1"),
        ("/listTagsForStream", {"NextToken": "abc"}, "NextToken"),
        ("/listTagsForStream", {"NextToken": "not a token!"}, "NextToken"),
    ],
)
def test_stream_tag_operations_validate_limits_and_patterns(invoke, path, body, named):
    _create(invoke, "limits")
    refused = invoke(path, {"StreamName": "limits", **body})
    assert _error(refused) == (400, "InvalidArgumentException")
    assert named in refused["body"]["message"]


@pytest.mark.parametrize(
    ("path", "body", "named"),
    [
        ("/TagResource", {"Tags": []}, "Tags"),
        ("/TagResource", {"Tags": [{"Key": "k"}]}, "Tags.1.member.Value"),
        ("/TagResource", {"Tags": [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]}, "Tags.2.member.Key"),
        ("/TagResource", {"Tags": {"k": "v"}}, "Tags"),
        ("/UntagResource", {}, "TagKeyList"),
        ("/TagResource", {"ResourceARN": None, "Tags": [{"Key": "k", "Value": ""}]}, "ResourceARN"),
        ("/ListTagsForResource", {"ResourceARN": "arn:aws:s3:::bucket"}, "ResourceARN"),
    ],
)
def test_resource_tag_operations_validate_limits_and_patterns(invoke, path, body, named):
    arn, _ = _create(invoke, "rlimits")
    refused = invoke(path, {"ResourceARN": arn, **body})
    assert _error(refused) == (400, "InvalidArgumentException")
    assert named in refused["body"]["message"]


def test_channel_arns_are_invalid_resource_format_for_streams_and_not_found_as_resources(invoke):
    channel = "arn:aws:kinesisvideo:us-east-1:000000000000:channel/chan/1700000000000"
    assert _error(invoke("/tagStream", {"StreamARN": channel, "Tags": {"a": "b"}})) == (
        400,
        "InvalidResourceFormatException",
    )
    assert _error(invoke("/listTagsForStream", {"StreamARN": channel})) == (400, "InvalidResourceFormatException")
    assert _error(invoke("/ListTagsForResource", {"ResourceARN": channel})) == (404, "ResourceNotFoundException")


def test_a_stream_made_with_no_retention_takes_media_after_update_data_retention(invoke, clip_factory):
    # Given a stream created with DataRetentionInHours 0: PutMedia and GetImages refuse it
    _, version = _create(invoke, "late")
    headers = {"x-amzn-stream-name": "late", "x-amzn-producer-start-timestamp": str(T0)}
    clip = clip_factory(seconds=2, fps=10, gop=10)
    images = {
        "StreamName": "late",
        "ImageSelectorType": "PRODUCER_TIMESTAMP",
        "StartTimestamp": T0 + 0.5,
        "EndTimestamp": T0 + 1.5,
        "SamplingInterval": 500,
        "Format": "JPEG",
    }
    assert _error(invoke("/getImages", images)) == (400, "NoDataRetentionException")
    assert _error(invoke("/putMedia", clip, headers=headers)) == (400, "NoDataRetentionException")

    # When its retention is increased
    invoke(
        "/updateDataRetention",
        {
            "StreamName": "late",
            "CurrentVersion": version,
            "Operation": "INCREASE_DATA_RETENTION",
            "DataRetentionChangeInHours": 1,
        },
    )

    # Then media is taken, listed and imaged at once
    assert invoke("/putMedia", clip, headers=headers)["status"] == 200
    answer = invoke("/getImages", images)
    fragments = invoke("/listFragments", {"StreamName": "late"})
    assert answer["status"] == 200
    assert all("ImageContent" in image for image in answer["body"]["Images"])
    assert len(answer["body"]["Images"]) == 3
    assert fragments["body"]["Fragments"]


def test_updates_of_a_deleted_stream_never_bring_it_back(invoke):
    arn, version = _create(invoke, "gone", DataRetentionInHours=1)
    invoke("/deleteStream", {"StreamARN": arn})
    answer = invoke("/updateStream", {"StreamARN": arn, "CurrentVersion": version, "DeviceName": "cam"})
    assert _error(answer) == (404, "ResourceNotFoundException")
    assert invoke("/describeStream", {"StreamName": "gone"})["status"] == 404
