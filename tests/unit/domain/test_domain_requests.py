"""Validation of the other operations: ListFragments and the control plane (kinesisvideo model rules)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from stillframe.domain import requests, stream_requests
from stillframe.domain.params import MAX_TIMESTAMP_MS
from stillframe.domain.requests import StreamRef
from stillframe.errors import InvalidArgumentError, StillframeError

T0 = 1_700_000_000
ARN = "arn:aws:kinesisvideo:us-east-1:123456789012:stream/cam-1/1700000000000"
SELECTOR = {
    "FragmentSelectorType": "SERVER_TIMESTAMP",
    "TimestampRange": {"StartTimestamp": T0, "EndTimestamp": T0 + 60},
}

Parser = Callable[[object], object]


def refused(parse: Parser, request_body: object) -> StillframeError:
    """Parse a body that must be refused and return the error."""
    with pytest.raises(StillframeError) as info:
        parse(request_body)
    return info.value


# (id, parser, body, text the message must contain); every case must be an InvalidArgumentException
INVALID: list[tuple[str, Parser, dict[str, Any], str]] = [
    # ListFragments
    ("lf-no-stream", requests.parse_list_fragments, {}, "StreamName"),
    ("lf-arn-differs", requests.parse_list_fragments, {"StreamName": "x", "StreamARN": ARN}, "StreamARN"),
    (
        "lf-selector-not-object",
        requests.parse_list_fragments,
        {"StreamName": "a", "FragmentSelector": "x"},
        "FragmentSelector",
    ),
    (
        "lf-selector-type-missing",
        requests.parse_list_fragments,
        {"StreamName": "a", "FragmentSelector": {"TimestampRange": SELECTOR["TimestampRange"]}},
        "FragmentSelector.FragmentSelectorType",
    ),
    (
        "lf-selector-type-enum",
        requests.parse_list_fragments,
        {"StreamName": "a", "FragmentSelector": {**SELECTOR, "FragmentSelectorType": "ARRIVAL"}},
        "FragmentSelector.FragmentSelectorType",
    ),
    (
        "lf-range-missing",
        requests.parse_list_fragments,
        {"StreamName": "a", "FragmentSelector": {"FragmentSelectorType": "SERVER_TIMESTAMP"}},
        "FragmentSelector.TimestampRange",
    ),
    (
        "lf-start-missing",
        requests.parse_list_fragments,
        {"StreamName": "a", "FragmentSelector": {**SELECTOR, "TimestampRange": {"EndTimestamp": T0}}},
        "FragmentSelector.TimestampRange.StartTimestamp",
    ),
    (
        "lf-end-missing",
        requests.parse_list_fragments,
        {"StreamName": "a", "FragmentSelector": {**SELECTOR, "TimestampRange": {"StartTimestamp": T0}}},
        "FragmentSelector.TimestampRange.EndTimestamp",
    ),
    (
        "lf-end-before-start",
        requests.parse_list_fragments,
        {
            "StreamName": "a",
            "FragmentSelector": {**SELECTOR, "TimestampRange": {"StartTimestamp": T0, "EndTimestamp": T0 - 1}},
        },
        "EndTimestamp",
    ),
    ("lf-max-0", requests.parse_list_fragments, {"StreamName": "a", "MaxResults": 0}, "MaxResults"),
    ("lf-max-1001", requests.parse_list_fragments, {"StreamName": "a", "MaxResults": 1001}, "MaxResults"),
    ("lf-max-bool", requests.parse_list_fragments, {"StreamName": "a", "MaxResults": True}, "MaxResults"),
    ("lf-token-pattern", requests.parse_list_fragments, {"StreamName": "a", "NextToken": "a-b"}, "NextToken"),
    ("lf-token-long", requests.parse_list_fragments, {"StreamName": "a", "NextToken": "A" * 4097}, "NextToken"),
    # CreateStream
    ("cs-name-missing", stream_requests.parse_create_stream, {}, "StreamName"),
    ("cs-name-pattern", stream_requests.parse_create_stream, {"StreamName": "a/b"}, "StreamName"),
    ("cs-name-long", stream_requests.parse_create_stream, {"StreamName": "a" * 257}, "StreamName"),
    ("cs-device-long", stream_requests.parse_create_stream, {"StreamName": "a", "DeviceName": "d" * 129}, "DeviceName"),
    (
        "cs-device-pattern",
        stream_requests.parse_create_stream,
        {"StreamName": "a", "DeviceName": "my cam"},
        "DeviceName",
    ),
    ("cs-device-empty", stream_requests.parse_create_stream, {"StreamName": "a", "DeviceName": ""}, "DeviceName"),
    ("cs-media-pattern", stream_requests.parse_create_stream, {"StreamName": "a", "MediaType": "video"}, "MediaType"),
    (
        "cs-media-non-ascii",
        stream_requests.parse_create_stream,
        {"StreamName": "a", "MediaType": "vidéo/h264"},
        "MediaType",
    ),
    (
        "cs-media-long",
        stream_requests.parse_create_stream,
        {"StreamName": "a", "MediaType": "v/" + "h" * 127},
        "MediaType",
    ),
    ("cs-kms-empty", stream_requests.parse_create_stream, {"StreamName": "a", "KmsKeyId": ""}, "KmsKeyId"),
    ("cs-kms-long", stream_requests.parse_create_stream, {"StreamName": "a", "KmsKeyId": "k" * 2049}, "KmsKeyId"),
    (
        "cs-retention-negative",
        stream_requests.parse_create_stream,
        {"StreamName": "a", "DataRetentionInHours": -1},
        "DataRetentionInHours",
    ),
    (
        "cs-retention-string",
        stream_requests.parse_create_stream,
        {"StreamName": "a", "DataRetentionInHours": "24"},
        "DataRetentionInHours",
    ),
    (
        "cs-retention-fraction",
        stream_requests.parse_create_stream,
        {"StreamName": "a", "DataRetentionInHours": 1.5},
        "DataRetentionInHours",
    ),
    ("cs-tags-empty", stream_requests.parse_create_stream, {"StreamName": "a", "Tags": {}}, "Tags"),
    (
        "cs-tags-51",
        stream_requests.parse_create_stream,
        {"StreamName": "a", "Tags": {f"k{i}": "v" for i in range(51)}},
        "Tags",
    ),
    (
        "cs-tags-list",
        stream_requests.parse_create_stream,
        {"StreamName": "a", "Tags": [{"Key": "k", "Value": "v"}]},
        "Tags",
    ),
    ("cs-tag-key-empty", stream_requests.parse_create_stream, {"StreamName": "a", "Tags": {"": "v"}}, "Tags"),
    ("cs-tag-key-long", stream_requests.parse_create_stream, {"StreamName": "a", "Tags": {"k" * 129: "v"}}, "Tags"),
    ("cs-tag-key-pattern", stream_requests.parse_create_stream, {"StreamName": "a", "Tags": {"a#b": "v"}}, "Tags"),
    ("cs-tag-value-long", stream_requests.parse_create_stream, {"StreamName": "a", "Tags": {"k": "v" * 257}}, "Tags"),
    ("cs-tag-value-pattern", stream_requests.parse_create_stream, {"StreamName": "a", "Tags": {"k": "a;b"}}, "Tags"),
    ("cs-tag-value-number", stream_requests.parse_create_stream, {"StreamName": "a", "Tags": {"k": 1}}, "Tags"),
    (
        "cs-storage-tier-missing",
        stream_requests.parse_create_stream,
        {"StreamName": "a", "StreamStorageConfiguration": {}},
        "StreamStorageConfiguration.DefaultStorageTier",
    ),
    (
        "cs-storage-tier-enum",
        stream_requests.parse_create_stream,
        {"StreamName": "a", "StreamStorageConfiguration": {"DefaultStorageTier": "COLD"}},
        "StreamStorageConfiguration.DefaultStorageTier",
    ),
    # DescribeStream
    ("ds-no-stream", stream_requests.parse_describe_stream, {}, "StreamName"),
    ("ds-name-pattern", stream_requests.parse_describe_stream, {"StreamName": "a b"}, "StreamName"),
    ("ds-arn-pattern", stream_requests.parse_describe_stream, {"StreamARN": "cam-1"}, "StreamARN"),
    # ListStreams
    ("ls-max-0", stream_requests.parse_list_streams, {"MaxResults": 0}, "MaxResults"),
    ("ls-max-10001", stream_requests.parse_list_streams, {"MaxResults": 10001}, "MaxResults"),
    ("ls-token-pattern", stream_requests.parse_list_streams, {"NextToken": "a-b"}, "NextToken"),
    ("ls-token-long", stream_requests.parse_list_streams, {"NextToken": "A" * 1025}, "NextToken"),
    (
        "ls-condition-not-object",
        stream_requests.parse_list_streams,
        {"StreamNameCondition": "cam"},
        "StreamNameCondition",
    ),
    (
        "ls-operator-enum",
        stream_requests.parse_list_streams,
        {"StreamNameCondition": {"ComparisonOperator": "CONTAINS", "ComparisonValue": "cam"}},
        "StreamNameCondition.ComparisonOperator",
    ),
    (
        "ls-value-pattern",
        stream_requests.parse_list_streams,
        {"StreamNameCondition": {"ComparisonOperator": "BEGINS_WITH", "ComparisonValue": "a b"}},
        "StreamNameCondition.ComparisonValue",
    ),
    (
        "ls-value-missing",
        stream_requests.parse_list_streams,
        {"StreamNameCondition": {"ComparisonOperator": "BEGINS_WITH"}},
        "StreamNameCondition.ComparisonValue",
    ),
    # DeleteStream
    ("del-arn-missing", stream_requests.parse_delete_stream, {"StreamName": "cam-1"}, "StreamARN"),
    (
        "del-arn-pattern",
        stream_requests.parse_delete_stream,
        {"StreamARN": "arn:aws:kinesis:us-east-1:1:stream/a/1"},
        "StreamARN",
    ),
    (
        "del-version-pattern",
        stream_requests.parse_delete_stream,
        {"StreamARN": ARN, "CurrentVersion": "v-1"},
        "CurrentVersion",
    ),
    (
        "del-version-long",
        stream_requests.parse_delete_stream,
        {"StreamARN": ARN, "CurrentVersion": "v" * 65},
        "CurrentVersion",
    ),
    (
        "del-version-empty",
        stream_requests.parse_delete_stream,
        {"StreamARN": ARN, "CurrentVersion": ""},
        "CurrentVersion",
    ),
    # GetDataEndpoint
    ("gde-api-missing", stream_requests.parse_get_data_endpoint, {"StreamName": "a"}, "APIName"),
    ("gde-api-enum", stream_requests.parse_get_data_endpoint, {"StreamName": "a", "APIName": "get_images"}, "APIName"),
    ("gde-no-stream", stream_requests.parse_get_data_endpoint, {"APIName": "GET_IMAGES"}, "StreamName"),
    (
        "gde-arn-differs",
        stream_requests.parse_get_data_endpoint,
        {"StreamName": "b", "StreamARN": ARN, "APIName": "GET_IMAGES"},
        "StreamARN",
    ),
]


@pytest.mark.parametrize(("case", "parse", "request_body", "field"), INVALID, ids=[row[0] for row in INVALID])
def test_invalid_request_is_refused_with_invalid_argument_naming_the_field(
    case: str, parse: Parser, request_body: dict[str, Any], field: str
) -> None:
    # Given a body that breaks one rule of its operation's model; When parsed
    err = refused(parse, request_body)
    # Then it is an InvalidArgumentException whose message names the field
    assert type(err) is InvalidArgumentError
    assert field in err.message


@pytest.mark.parametrize(
    "parse",
    [
        requests.parse_list_fragments,
        stream_requests.parse_create_stream,
        stream_requests.parse_describe_stream,
        stream_requests.parse_list_streams,
        stream_requests.parse_delete_stream,
        stream_requests.parse_get_data_endpoint,
    ],
)
def test_every_operation_refuses_a_body_that_is_not_an_object(parse: Parser) -> None:
    # Given a JSON array body; When parsed; Then InvalidArgumentException says so
    err = refused(parse, ["StreamName"])
    assert type(err) is InvalidArgumentError
    assert "request body must be a JSON object" in err.message


def test_list_fragments_without_selector_lists_everything_with_default_page() -> None:
    # Given only a stream; When parsed
    request = requests.parse_list_fragments({"StreamARN": ARN})
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
    request = requests.parse_list_fragments({"StreamName": "a", "FragmentSelector": selector, "MaxResults": 1000})
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
def test_list_fragments_binding_changes_with_every_parameter_but_the_token(changes: dict[str, Any]) -> None:
    # Given a request, the same with a token, and the same with one parameter changed
    base = {"StreamName": "a", "FragmentSelector": SELECTOR}
    first = requests.parse_list_fragments(base)
    # Then the token does not change the binding, and the parameter does
    assert requests.parse_list_fragments({**base, "NextToken": "AAAA"}).binding() == first.binding()
    assert requests.parse_list_fragments({**base, **changes}).binding() != first.binding()


def test_create_stream_minimal_gets_kvs_defaults() -> None:
    # Given only StreamName; When parsed; Then retention is 0 and nothing else is set
    request = stream_requests.parse_create_stream({"StreamName": "cam-1"})
    assert request == stream_requests.CreateStreamRequest(
        stream_name="cam-1",
        device_name=None,
        media_type=None,
        kms_key_id=None,
        data_retention_hours=0,
        tags={},
        storage_tier=None,
    )


def test_create_stream_full_request_keeps_every_field() -> None:
    # Given every field, including Unicode letters and spaces in tags; When parsed
    request = stream_requests.parse_create_stream(
        {
            "StreamName": "cam-1",
            "DeviceName": "pi.4_b",
            "MediaType": "video/h264,audio/aac",
            "KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/abc",
            "DataRetentionInHours": 24,
            "Tags": {"Größe": "sehr groß", "team:video/x": "a+b=c@d-e_f.g", "empty": ""},
            "StreamStorageConfiguration": {"DefaultStorageTier": "WARM"},
        }
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
    assert stream_requests.parse_describe_stream({"StreamARN": ARN}).stream == StreamRef(name=None, arn=ARN)


def test_list_streams_defaults_and_condition() -> None:
    # Given an empty body; Then the model's default limit applies and there is no filter
    plain = stream_requests.parse_list_streams({})
    assert (plain.max_results, plain.begins_with, plain.next_token) == (10_000, None, None)
    # Given a BEGINS_WITH condition (operator optional: it is the only one) and an empty token
    filtered = stream_requests.parse_list_streams({"StreamNameCondition": {"ComparisonValue": "cam"}, "NextToken": ""})
    # Then the prefix is kept and the empty token counts as none
    assert (filtered.begins_with, filtered.next_token) == ("cam", None)


def test_list_streams_binding_follows_limit_and_prefix_not_token() -> None:
    # Given three ListStreams requests
    base = stream_requests.parse_list_streams({"MaxResults": 5})
    # Then the token is not bound, the limit and the prefix are
    assert stream_requests.parse_list_streams({"MaxResults": 5, "NextToken": "AAAA"}).binding() == base.binding()
    assert stream_requests.parse_list_streams({"MaxResults": 6}).binding() != base.binding()
    condition = {"ComparisonOperator": "BEGINS_WITH", "ComparisonValue": "cam"}
    assert (
        stream_requests.parse_list_streams({"MaxResults": 5, "StreamNameCondition": condition}).binding()
        != base.binding()
    )


def test_delete_stream_reads_arn_and_optional_version() -> None:
    # Given an ARN and a version; When parsed; Then both are kept and the name is the ARN's
    request = stream_requests.parse_delete_stream({"StreamARN": ARN, "CurrentVersion": "a1B2"})
    assert (request.stream_arn, request.current_version, request.stream_name) == (ARN, "a1B2", "cam-1")
    assert stream_requests.parse_delete_stream({"StreamARN": ARN}).current_version is None


@pytest.mark.parametrize("api_name", stream_requests.API_NAMES)
def test_get_data_endpoint_accepts_every_modeled_api_name(api_name: str) -> None:
    # Given any APIName of the model; When parsed; Then it is kept
    assert stream_requests.parse_get_data_endpoint({"StreamName": "a", "APIName": api_name}).api_name == api_name


def test_stream_ref_rule_helper() -> None:
    # Given StreamRefs built by hand (as the PutMedia headers do)
    # Then an empty one is refused, a mismatched pair is refused, and a matching pair names the stream
    with pytest.raises(InvalidArgumentError, match="StreamName"):
        StreamRef(name=None, arn=None).check()
    with pytest.raises(InvalidArgumentError, match="StreamARN"):
        StreamRef(name="cam-2", arn=ARN).check()
    assert StreamRef(name="cam-1", arn=ARN).check().stream_name == "cam-1"
    assert StreamRef(name=None, arn=ARN).stream_name == "cam-1"
