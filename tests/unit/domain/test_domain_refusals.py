"""Refusals in AWS's words: the field as the client spelled it, the value (cut short), and the rule."""

from __future__ import annotations

import pytest

from stillframe.domain.refusals import parse
from stillframe.domain.requests import GetImagesRequest, ListFragmentsRequest
from stillframe.domain.stream_admin_requests import TagResourceRequest, UntagStreamRequest
from stillframe.domain.stream_requests import DescribeStreamRequest
from stillframe.errors import InvalidArgumentError

ARN = "arn:aws:kinesisvideo:us-east-1:123456789012:stream/cam/1"


def refused(model: type, body: object) -> str:
    with pytest.raises(InvalidArgumentError) as info:
        parse(model, body)
    return info.value.message


def test_string_rule_message_is_in_aws_style() -> None:
    # Given a StreamName outside the pattern; Then the sentence is AWS's, with the model's own pattern text
    assert refused(DescribeStreamRequest, {"StreamName": "a b"}) == (
        "1 validation error detected: Value 'a b' at 'StreamName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
    )


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (0, "Member must have value greater than or equal to 1"),
        (1001, "Member must have value less than or equal to 1000"),
        (2.5, "Member must be an integer"),
        ("10", "Member must be an integer"),
        (True, "Member must be an integer"),
    ],
)
def test_integer_rules_name_the_range_or_the_type(value: object, rule: str) -> None:
    message = refused(ListFragmentsRequest, {"StreamName": "cam", "MaxResults": value})
    assert f"at 'MaxResults' failed to satisfy constraint: {rule}" in message


def test_enum_rule_is_case_sensitive_and_lists_the_values() -> None:
    body = {"StreamName": "cam", "ImageSelectorType": "SERVER_TIMESTAMP", "StartTimestamp": 1, "EndTimestamp": 2}
    message = refused(GetImagesRequest, {**body, "Format": "jpeg"})
    assert "Member must satisfy enum value set: [JPEG, PNG]" in message


def test_null_is_missing_and_echoed_values_are_cut_short() -> None:
    assert "Value null at 'ResourceARN' failed to satisfy constraint: Member must not be null" in refused(
        TagResourceRequest, {"ResourceARN": None, "Tags": [{"Key": "k", "Value": ""}]}
    )
    message = refused(DescribeStreamRequest, {"StreamName": "A" * 5000})
    assert "A" * 77 + "..." in message and "A" * 78 not in message


def test_list_members_are_counted_from_one() -> None:
    assert "at 'TagKeyList.2.member'" in refused(UntagStreamRequest, {"StreamName": "cam", "TagKeyList": ["k", ""]})
    assert "at 'Tags.2.member.Key'" in refused(
        TagResourceRequest, {"ResourceARN": ARN, "Tags": [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]}
    )
