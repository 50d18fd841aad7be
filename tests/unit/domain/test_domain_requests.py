"""Validation of the other operations: ListFragments and the control plane (kinesisvideo model rules)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from stillframe.domain import stream_requests
from stillframe.domain.put_media_headers import PutMediaHeaders
from stillframe.domain.refusals import parse
from stillframe.domain.requests import ListFragmentsRequest, StreamRef
from stillframe.domain.stream_requests import (
    CreateStreamRequest,
    DeleteStreamRequest,
    DescribeStreamRequest,
    GetDataEndpointRequest,
    ListStreamsRequest,
)
from stillframe.domain.timestamps import MAX_TIMESTAMP_MS
from stillframe.errors import InvalidArgumentError, StillframeError

T0 = 1_700_000_000
ARN = "arn:aws:kinesisvideo:us-east-1:123456789012:stream/cam-1/1700000000000"
SELECTOR = {
    "FragmentSelectorType": "SERVER_TIMESTAMP",
    "TimestampRange": {"StartTimestamp": T0, "EndTimestamp": T0 + 60},
}

Model = type[BaseModel]


def refused(model: Model, request_body: object) -> StillframeError:
    """Validate a body that must be refused and return the error."""
    with pytest.raises(StillframeError) as info:
        parse(model, request_body)
    return info.value


# (id, parser, body, text the message must contain); every case must be an InvalidArgumentException
INVALID: list[tuple[str, Model, dict[str, Any], str]] = [
    # ListFragments
    ("lf-no-stream", ListFragmentsRequest, {}, "StreamName"),
    ("lf-arn-differs", ListFragmentsRequest, {"StreamName": "x", "StreamARN": ARN}, "StreamARN"),
    (
        "lf-selector-not-object",
        ListFragmentsRequest,
        {"StreamName": "a", "FragmentSelector": "x"},
        "FragmentSelector",
    ),
    (
        "lf-selector-type-missing",
        ListFragmentsRequest,
        {"StreamName": "a", "FragmentSelector": {"TimestampRange": SELECTOR["TimestampRange"]}},
        "FragmentSelector.FragmentSelectorType",
    ),
    (
        "lf-selector-type-enum",
        ListFragmentsRequest,
        {"StreamName": "a", "FragmentSelector": {**SELECTOR, "FragmentSelectorType": "ARRIVAL"}},
        "FragmentSelector.FragmentSelectorType",
    ),
    (
        "lf-range-missing",
        ListFragmentsRequest,
        {"StreamName": "a", "FragmentSelector": {"FragmentSelectorType": "SERVER_TIMESTAMP"}},
        "FragmentSelector.TimestampRange",
    ),
    (
        "lf-start-missing",
        ListFragmentsRequest,
        {"StreamName": "a", "FragmentSelector": {**SELECTOR, "TimestampRange": {"EndTimestamp": T0}}},
        "FragmentSelector.TimestampRange.StartTimestamp",
    ),
    (
        "lf-end-missing",
        ListFragmentsRequest,
        {"StreamName": "a", "FragmentSelector": {**SELECTOR, "TimestampRange": {"StartTimestamp": T0}}},
        "FragmentSelector.TimestampRange.EndTimestamp",
    ),
    (
        "lf-end-before-start",
        ListFragmentsRequest,
        {
            "StreamName": "a",
            "FragmentSelector": {**SELECTOR, "TimestampRange": {"StartTimestamp": T0, "EndTimestamp": T0 - 1}},
        },
        "EndTimestamp",
    ),
    ("lf-max-0", ListFragmentsRequest, {"StreamName": "a", "MaxResults": 0}, "MaxResults"),
    ("lf-max-1001", ListFragmentsRequest, {"StreamName": "a", "MaxResults": 1001}, "MaxResults"),
    ("lf-max-bool", ListFragmentsRequest, {"StreamName": "a", "MaxResults": True}, "MaxResults"),
    ("lf-token-pattern", ListFragmentsRequest, {"StreamName": "a", "NextToken": "a-b"}, "NextToken"),
    ("lf-token-long", ListFragmentsRequest, {"StreamName": "a", "NextToken": "A" * 4097}, "NextToken"),
    # CreateStream
    ("cs-name-missing", CreateStreamRequest, {}, "StreamName"),
    ("cs-name-pattern", CreateStreamRequest, {"StreamName": "a/b"}, "StreamName"),
    ("cs-name-long", CreateStreamRequest, {"StreamName": "a" * 257}, "StreamName"),
    ("cs-device-long", CreateStreamRequest, {"StreamName": "a", "DeviceName": "d" * 129}, "DeviceName"),
    (
        "cs-device-pattern",
        CreateStreamRequest,
        {"StreamName": "a", "DeviceName": "my cam"},
        "DeviceName",
    ),
    ("cs-device-empty", CreateStreamRequest, {"StreamName": "a", "DeviceName": ""}, "DeviceName"),
    ("cs-media-pattern", CreateStreamRequest, {"StreamName": "a", "MediaType": "video"}, "MediaType"),
    (
        "cs-media-non-ascii",
        CreateStreamRequest,
        {"StreamName": "a", "MediaType": "vidéo/h264"},
        "MediaType",
    ),
    (
        "cs-media-long",
        CreateStreamRequest,
        {"StreamName": "a", "MediaType": "v/" + "h" * 127},
        "MediaType",
    ),
    ("cs-kms-empty", CreateStreamRequest, {"StreamName": "a", "KmsKeyId": ""}, "KmsKeyId"),
    ("cs-kms-long", CreateStreamRequest, {"StreamName": "a", "KmsKeyId": "k" * 2049}, "KmsKeyId"),
    (
        "cs-retention-negative",
        CreateStreamRequest,
        {"StreamName": "a", "DataRetentionInHours": -1},
        "DataRetentionInHours",
    ),
    (
        "cs-retention-string",
        CreateStreamRequest,
        {"StreamName": "a", "DataRetentionInHours": "24"},
        "DataRetentionInHours",
    ),
    (
        "cs-retention-fraction",
        CreateStreamRequest,
        {"StreamName": "a", "DataRetentionInHours": 1.5},
        "DataRetentionInHours",
    ),
    ("cs-tags-empty", CreateStreamRequest, {"StreamName": "a", "Tags": {}}, "Tags"),
    (
        "cs-tags-51",
        CreateStreamRequest,
        {"StreamName": "a", "Tags": {f"k{i}": "v" for i in range(51)}},
        "Tags",
    ),
    (
        "cs-tags-list",
        CreateStreamRequest,
        {"StreamName": "a", "Tags": [{"Key": "k", "Value": "v"}]},
        "Tags",
    ),
    ("cs-tag-key-empty", CreateStreamRequest, {"StreamName": "a", "Tags": {"": "v"}}, "Tags"),
    ("cs-tag-key-long", CreateStreamRequest, {"StreamName": "a", "Tags": {"k" * 129: "v"}}, "Tags"),
    ("cs-tag-key-pattern", CreateStreamRequest, {"StreamName": "a", "Tags": {"a#b": "v"}}, "Tags"),
    ("cs-tag-value-long", CreateStreamRequest, {"StreamName": "a", "Tags": {"k": "v" * 257}}, "Tags"),
    ("cs-tag-value-pattern", CreateStreamRequest, {"StreamName": "a", "Tags": {"k": "a;b"}}, "Tags"),
    ("cs-tag-value-number", CreateStreamRequest, {"StreamName": "a", "Tags": {"k": 1}}, "Tags"),
    (
        "cs-storage-tier-missing",
        CreateStreamRequest,
        {"StreamName": "a", "StreamStorageConfiguration": {}},
        "StreamStorageConfiguration.DefaultStorageTier",
    ),
    (
        "cs-storage-tier-enum",
        CreateStreamRequest,
        {"StreamName": "a", "StreamStorageConfiguration": {"DefaultStorageTier": "COLD"}},
        "StreamStorageConfiguration.DefaultStorageTier",
    ),
    # DescribeStream
    ("ds-no-stream", DescribeStreamRequest, {}, "StreamName"),
    ("ds-name-pattern", DescribeStreamRequest, {"StreamName": "a b"}, "StreamName"),
    ("ds-arn-pattern", DescribeStreamRequest, {"StreamARN": "cam-1"}, "StreamARN"),
    # ListStreams
    ("ls-max-0", ListStreamsRequest, {"MaxResults": 0}, "MaxResults"),
    ("ls-max-10001", ListStreamsRequest, {"MaxResults": 10001}, "MaxResults"),
    ("ls-token-pattern", ListStreamsRequest, {"NextToken": "a-b"}, "NextToken"),
    ("ls-token-long", ListStreamsRequest, {"NextToken": "A" * 1025}, "NextToken"),
    (
        "ls-condition-not-object",
        ListStreamsRequest,
        {"StreamNameCondition": "cam"},
        "StreamNameCondition",
    ),
    (
        "ls-operator-enum",
        ListStreamsRequest,
        {"StreamNameCondition": {"ComparisonOperator": "CONTAINS", "ComparisonValue": "cam"}},
        "StreamNameCondition.ComparisonOperator",
    ),
    (
        "ls-value-pattern",
        ListStreamsRequest,
        {"StreamNameCondition": {"ComparisonOperator": "BEGINS_WITH", "ComparisonValue": "a b"}},
        "StreamNameCondition.ComparisonValue",
    ),
    (
        "ls-value-missing",
        ListStreamsRequest,
        {"StreamNameCondition": {"ComparisonOperator": "BEGINS_WITH"}},
        "StreamNameCondition.ComparisonValue",
    ),
    # DeleteStream
    ("del-arn-missing", DeleteStreamRequest, {"StreamName": "cam-1"}, "StreamARN"),
    (
        "del-arn-pattern",
        DeleteStreamRequest,
        {"StreamARN": "arn:aws:kinesis:us-east-1:1:stream/a/1"},
        "StreamARN",
    ),
    (
        "del-version-pattern",
        DeleteStreamRequest,
        {"StreamARN": ARN, "CurrentVersion": "v-1"},
        "CurrentVersion",
    ),
    (
        "del-version-long",
        DeleteStreamRequest,
        {"StreamARN": ARN, "CurrentVersion": "v" * 65},
        "CurrentVersion",
    ),
    (
        "del-version-empty",
        DeleteStreamRequest,
        {"StreamARN": ARN, "CurrentVersion": ""},
        "CurrentVersion",
    ),
    # GetDataEndpoint
    ("gde-api-missing", GetDataEndpointRequest, {"StreamName": "a"}, "APIName"),
    ("gde-api-enum", GetDataEndpointRequest, {"StreamName": "a", "APIName": "get_images"}, "APIName"),
    ("gde-no-stream", GetDataEndpointRequest, {"APIName": "GET_IMAGES"}, "StreamName"),
    (
        "gde-arn-differs",
        GetDataEndpointRequest,
        {"StreamName": "b", "StreamARN": ARN, "APIName": "GET_IMAGES"},
        "StreamARN",
    ),
]


@pytest.mark.parametrize(("case", "model", "request_body", "field"), INVALID, ids=[row[0] for row in INVALID])
def test_invalid_request_is_refused_with_invalid_argument_naming_the_field(
    case: str, model: Model, request_body: dict[str, Any], field: str
) -> None:
    # Given a body that breaks one rule of its operation's model; When parsed
    err = refused(model, request_body)
    # Then it is an InvalidArgumentException whose message names the field
    assert type(err) is InvalidArgumentError
    assert field in err.message


@pytest.mark.parametrize(
    "model",
    [
        ListFragmentsRequest,
        CreateStreamRequest,
        DescribeStreamRequest,
        ListStreamsRequest,
        DeleteStreamRequest,
        GetDataEndpointRequest,
    ],
)
def test_every_operation_refuses_a_body_that_is_not_an_object(model: Model) -> None:
    # Given a JSON array body; When parsed; Then InvalidArgumentException says so
    err = refused(model, ["StreamName"])
    assert type(err) is InvalidArgumentError
    assert "request body must be a JSON object" in err.message


def test_list_fragments_without_selector_lists_everything_with_default_page() -> None:
    # Given only a stream; When parsed
    request = parse(ListFragmentsRequest, {"StreamARN": ARN})
    # Then there is no selector, the range is the whole timeline, and the default page size (100) applies
    assert (request.selector, request.start_ms, request.end_ms) == (None, 0, MAX_TIMESTAMP_MS)
    assert request.max_results == 100
    assert request.stream.stream_name == "cam-1"


def test_list_fragments_selector_is_read_in_milliseconds() -> None:
    # Given a selector with fractional and ISO timestamps; When parsed
    selector = {
        "FragmentSelectorType": "PRODUCER_TIMESTAMP",
        "TimestampRange": {"StartTimestamp": T0 + 0.5, "EndTimestamp": "2023-11-14T22:14:20Z"},
    }
    request = parse(ListFragmentsRequest, {"StreamName": "a", "FragmentSelector": selector, "MaxResults": 1000})
    # Then the range is in epoch ms and the limit is kept
    assert request.selector == "PRODUCER_TIMESTAMP"
    assert (request.start_ms, request.end_ms) == (T0 * 1000 + 500, (T0 + 60) * 1000)
    assert request.max_results == 1000


@pytest.mark.parametrize(
    "changes",
    [
        {"StreamName": "b"},
        {"FragmentSelector": {**SELECTOR, "FragmentSelectorType": "PRODUCER_TIMESTAMP"}},
        {"FragmentSelector": {**SELECTOR, "TimestampRange": {"StartTimestamp": T0 + 1, "EndTimestamp": T0 + 60}}},
        {"FragmentSelector": {**SELECTOR, "TimestampRange": {"StartTimestamp": T0, "EndTimestamp": T0 + 61}}},
        {"FragmentSelector": None},
        {"MaxResults": 5},
    ],
)
def test_list_fragments_binding_is_the_stream_alone(changes: dict[str, Any]) -> None:
    # Given a request, and the same with one parameter changed
    base = {"StreamName": "a", "FragmentSelector": SELECTOR}
    first = parse(ListFragmentsRequest, base)
    # Then only the stream changes the binding: the range travels inside the token (operations.list_fragments)
    same = parse(ListFragmentsRequest, {**base, **changes}).binding() == first.binding()
    assert same == ("StreamName" not in changes)


def test_create_stream_minimal_gets_kvs_defaults() -> None:
    # Given only StreamName; When parsed; Then retention is 0 and nothing else is set
    request = parse(CreateStreamRequest, {"StreamName": "cam-1"})
    assert (request.stream_name, request.device_name, request.media_type, request.kms_key_id) == (
        "cam-1",
        None,
        None,
        None,
    )
    assert (request.data_retention_hours, request.tags, request.storage_tier) == (0, {}, None)


def test_create_stream_full_request_keeps_every_field() -> None:
    # Given every field, including Unicode letters and spaces in tags; When parsed
    request = parse(
        CreateStreamRequest,
        {
            "StreamName": "cam-1",
            "DeviceName": "pi.4_b",
            "MediaType": "video/h264,audio/aac",
            "KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/abc",
            "DataRetentionInHours": 24,
            "Tags": {"Größe": "sehr groß", "team:video/x": "a+b=c@d-e_f.g", "empty": ""},
            "StreamStorageConfiguration": {"DefaultStorageTier": "WARM"},
        },
    )
    # Then every value is kept as sent
    assert request.device_name == "pi.4_b"
    assert request.media_type == "video/h264,audio/aac"
    assert request.kms_key_id == "arn:aws:kms:us-east-1:123456789012:key/abc"
    assert request.data_retention_hours == 24
    assert request.tags == {"Größe": "sehr groß", "team:video/x": "a+b=c@d-e_f.g", "empty": ""}
    assert request.storage_tier == "WARM"


def test_describe_stream_by_arn() -> None:
    # Given a StreamARN; When parsed; Then the stream name comes from it
    assert parse(DescribeStreamRequest, {"StreamARN": ARN}).stream == StreamRef(name=None, arn=ARN)


def test_list_streams_defaults_and_condition() -> None:
    # Given an empty body; Then the model's default limit applies and there is no filter
    plain = parse(ListStreamsRequest, {})
    assert (plain.max_results, plain.begins_with, plain.next_token) == (10_000, None, None)
    # Given a BEGINS_WITH condition (operator optional: it is the only one) and an empty token
    filtered = parse(ListStreamsRequest, {"StreamNameCondition": {"ComparisonValue": "cam"}, "NextToken": ""})
    # Then the prefix is kept and the empty token counts as none
    assert (filtered.begins_with, filtered.next_token) == ("cam", None)


def test_list_streams_binding_follows_limit_and_prefix_not_token() -> None:
    # Given three ListStreams requests
    base = parse(ListStreamsRequest, {"MaxResults": 5})
    # Then the token is not bound, the limit and the prefix are
    assert parse(ListStreamsRequest, {"MaxResults": 5, "NextToken": "AAAA"}).binding() == base.binding()
    assert parse(ListStreamsRequest, {"MaxResults": 6}).binding() != base.binding()
    condition = {"ComparisonOperator": "BEGINS_WITH", "ComparisonValue": "cam"}
    assert parse(ListStreamsRequest, {"MaxResults": 5, "StreamNameCondition": condition}).binding() != base.binding()


def test_delete_stream_reads_arn_and_optional_version() -> None:
    # Given an ARN and a version; When parsed; Then both are kept and the name is the ARN's
    request = parse(DeleteStreamRequest, {"StreamARN": ARN, "CurrentVersion": "a1B2"})
    assert (request.stream_arn, request.current_version, request.stream_name) == (ARN, "a1B2", "cam-1")
    assert parse(DeleteStreamRequest, {"StreamARN": ARN}).current_version is None


@pytest.mark.parametrize("api_name", stream_requests.API_NAMES)
def test_get_data_endpoint_accepts_every_modeled_api_name(api_name: str) -> None:
    # Given any APIName of the model; When parsed; Then it is kept
    assert parse(GetDataEndpointRequest, {"StreamName": "a", "APIName": api_name}).api_name == api_name


def test_stream_ref_rule_helper() -> None:
    # Given StreamRefs read from PutMedia's headers
    # Then an empty one is refused, a mismatched pair is refused, and a matching pair names the stream
    with pytest.raises(InvalidArgumentError, match="StreamName"):
        parse(PutMediaHeaders, {})
    with pytest.raises(InvalidArgumentError, match="StreamARN"):
        parse(PutMediaHeaders, {"x-amzn-stream-name": "cam-2", "x-amzn-stream-arn": ARN})
    assert (
        parse(PutMediaHeaders, {"x-amzn-stream-name": "cam-1", "x-amzn-stream-arn": ARN}).stream.stream_name == "cam-1"
    )
    assert StreamRef(name=None, arn=ARN).stream_name == "cam-1"
