"""The handler with API Gateway REST events: stream operations, routing and the AWS error shape."""

from __future__ import annotations


def test_stream_lifecycle(invoke):
    # Given a fresh store
    # When a stream is created, described, listed and deleted
    created = invoke("/createStream", {"StreamName": "cam-1", "DataRetentionInHours": 24, "MediaType": "video/h264"})
    described = invoke("/describeStream", {"StreamName": "cam-1"})
    listed = invoke("/listStreams", {})
    deleted = invoke("/deleteStream", {"StreamARN": created["body"]["StreamARN"]})
    after = invoke("/describeStream", {"StreamName": "cam-1"})

    # Then each answers as the kinesisvideo model says
    arn = created["body"]["StreamARN"]
    assert created["status"] == 200
    assert arn.startswith("arn:aws:kinesisvideo:us-east-1:000000000000:stream/cam-1/")
    info = described["body"]["StreamInfo"]
    assert (info["StreamName"], info["StreamARN"], info["Status"], info["DataRetentionInHours"]) == (
        "cam-1",
        arn,
        "ACTIVE",
        24,
    )
    assert info["MediaType"] == "video/h264"
    assert [s["StreamName"] for s in listed["body"]["StreamInfoList"]] == ["cam-1"]
    assert deleted["status"] == 200
    assert after["status"] == 404
    assert after["body"]["__type"] == "ResourceNotFoundException"


def test_duplicate_stream_is_resource_in_use(invoke):
    invoke("/createStream", {"StreamName": "dup"})
    second = invoke("/createStream", {"StreamName": "dup"})
    assert second["status"] == 400
    assert second["headers"]["x-amzn-ErrorType"] == "ResourceInUseException"
    assert "dup" in second["body"]["message"]


def test_delete_with_wrong_version_keeps_the_stream(invoke):
    arn = invoke("/createStream", {"StreamName": "keep"})["body"]["StreamARN"]
    refused = invoke("/deleteStream", {"StreamARN": arn, "CurrentVersion": "notTheVersion"})
    assert refused["status"] == 400
    assert refused["body"]["__type"] == "VersionMismatchException"
    assert invoke("/describeStream", {"StreamName": "keep"})["status"] == 200


def test_list_streams_pages_and_filters(invoke):
    for name in ("alpha-1", "alpha-2", "alpha-3", "beta-1"):
        invoke("/createStream", {"StreamName": name})
    condition = {"ComparisonOperator": "BEGINS_WITH", "ComparisonValue": "alpha"}
    first = invoke("/listStreams", {"MaxResults": 2, "StreamNameCondition": condition})["body"]
    second = invoke(
        "/listStreams", {"MaxResults": 2, "StreamNameCondition": condition, "NextToken": first["NextToken"]}
    )
    names = [s["StreamName"] for s in first["StreamInfoList"] + second["body"]["StreamInfoList"]]
    assert names == ["alpha-1", "alpha-2", "alpha-3"]
    assert "NextToken" not in second["body"]


def test_get_data_endpoint_returns_the_stage_url(invoke):
    invoke("/createStream", {"StreamName": "cam"})
    answer = invoke("/getDataEndpoint", {"StreamName": "cam", "APIName": "GET_IMAGES"})
    assert answer["body"] == {"DataEndpoint": "https://abc123defg.execute-api.us-east-1.amazonaws.com/prod"}


def test_get_data_endpoint_through_localstack_path_form(invoke):
    # LocalStack's gateway, called as https://localhost:<port>/_aws/execute-api/<id>/<stage>/..., strips that prefix
    # and says "HTTP" in X-Forwarded-Proto even over TLS; the endpoint answered must still be the one called.
    invoke("/createStream", {"StreamName": "cam"})
    headers = {"Host": "localhost:4599", "X-Forwarded-Proto": "HTTP"}
    answer = invoke("/getDataEndpoint", {"StreamName": "cam", "APIName": "GET_IMAGES"}, headers=headers)
    assert answer["body"] == {"DataEndpoint": "https://localhost:4599/_aws/execute-api/abc123defg/prod"}
    headers = {"Host": "abc123defg.execute-api.localhost.localstack.cloud:4566", "X-Forwarded-Proto": "HTTP"}
    answer = invoke("/getDataEndpoint", {"StreamName": "cam", "APIName": "GET_IMAGES"}, headers=headers)
    assert answer["body"] == {"DataEndpoint": "https://abc123defg.execute-api.localhost.localstack.cloud:4566/prod"}


def test_get_data_endpoint_for_unknown_stream_is_not_found(invoke):
    answer = invoke("/getDataEndpoint", {"StreamName": "nope", "APIName": "GET_IMAGES"})
    assert answer["status"] == 404


def test_unknown_operation_is_an_aws_shaped_404(invoke):
    answer = invoke("/describeSignalingChannel", {})
    assert answer["status"] == 404
    assert answer["headers"]["x-amzn-ErrorType"] == "UnknownOperationException"
    assert "/describeSignalingChannel" in answer["body"]["message"]
    assert answer["headers"]["x-amzn-RequestId"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


def test_malformed_json_is_invalid_argument(invoke):
    answer = invoke("/createStream", b"{not json")
    assert answer["status"] == 400
    assert answer["body"]["__type"] == "InvalidArgumentException"


def test_invalid_stream_name_names_the_field(invoke):
    answer = invoke("/createStream", {"StreamName": "no spaces allowed"})
    assert answer["status"] == 400
    assert answer["body"]["__type"] == "InvalidArgumentException"
    assert "StreamName" in answer["body"]["message"]


def test_every_response_carries_a_request_id(invoke):
    assert invoke("/listStreams", {})["headers"]["x-amzn-RequestId"]


def test_put_media_endpoint_is_refused_where_sessions_cannot_be_held_and_given_where_configured(tmp_path):
    from dataclasses import replace

    from stillframe.settings import Settings
    from stillframe.wiring import build
    from tests.conftest import Invoker

    # Given the settings of a Lambda function (no streaming), without and with a session host
    lambda_settings = Settings(store="local", data_dir=str(tmp_path / "d"), token_secret="t", streams_put_media=False)
    in_lambda = Invoker(build(lambda_settings))
    in_lambda("/createStream", {"StreamName": "cam", "DataRetentionInHours": 1})
    hosted = Invoker(build(replace(lambda_settings, put_media_endpoint="https://cams.example.net:4577")))
    # When a producer asks where to stream, and a consumer where to read stills
    refused = in_lambda("/getDataEndpoint", {"StreamName": "cam", "APIName": "PUT_MEDIA"})
    stills = in_lambda("/getDataEndpoint", {"StreamName": "cam", "APIName": "GET_IMAGES"})
    sent = hosted("/getDataEndpoint", {"StreamName": "cam", "APIName": "PUT_MEDIA"})
    # Then the producer is told why and what to do, before it starts a session that would hang
    assert refused["status"] == 400 and refused["body"]["__type"] == "InvalidArgumentException"
    assert "cannot hold a streaming PutMedia session" in refused["body"]["message"]
    assert "putMediaEndpoint" in refused["body"]["message"]
    assert stills["status"] == 200
    assert sent["body"] == {"DataEndpoint": "https://cams.example.net:4577"}
