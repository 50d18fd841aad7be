"""Field checks: timestamps to epoch ms, integers, strings, enums, maps, messages in AWS's style."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest

from stillframe.domain import params
from stillframe.errors import InvalidArgumentError

T0_MS = 1_700_000_000_000  # 2023-11-14T22:13:20Z


@pytest.mark.parametrize(
    ("value", "expected_ms"),
    [
        (1_700_000_000, T0_MS),
        (1_700_000_000.0, T0_MS),
        (1_700_000_000.123, T0_MS + 123),  # JS SDK v3 sends fractions; 1.7e9 * 1000 in binary lands below
        (1_700_000_000.999, T0_MS + 999),
        (1_700_000_000.1235, T0_MS + 124),  # half a ms rounds up
        (1_700_000_000.0005, T0_MS + 1),  # ... as written, though the binary float is a hair below .0005
        (1_700_000_000.0015, T0_MS + 2),
        (1_700_000_000.0004, T0_MS),
        (Decimal("1700000000.123"), T0_MS + 123),
        (0, 0),
        ("2023-11-14T22:13:20Z", T0_MS),
        ("2023-11-14T22:13:20.123Z", T0_MS + 123),
        ("2023-11-14T22:13:20.1235Z", T0_MS + 124),
        ("2023-11-14T23:13:20+01:00", T0_MS),
        ("2023-11-14T17:13:20.5-05:00", T0_MS + 500),
        ("2023-11-14T22:13:20", T0_MS),  # naive means UTC
        ("1970-01-01T00:00:00Z", 0),
    ],
)
def test_timestamp_becomes_epoch_milliseconds(value: object, expected_ms: int) -> None:
    # Given a timestamp as a client may send it; When checked; Then it is the intended epoch ms
    assert params.timestamp(value, "StartTimestamp") == expected_ms


def test_naive_iso_timestamp_is_utc_whatever_the_local_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a server whose local time zone is not UTC
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        # When a naive ISO timestamp is read; Then it is taken as UTC
        assert params.timestamp("2023-11-14T22:13:20", "StartTimestamp") == T0_MS
    finally:
        monkeypatch.undo()
        time.tzset()


def test_every_millisecond_fraction_survives_float_error() -> None:
    # Given epoch seconds with each of the 1000 millisecond fractions, as JSON floats
    for ms in range(1000):
        value = float(f"1700000000.{ms:03d}")
        # Then each converts to exactly that millisecond
        assert params.timestamp(value, "StartTimestamp") == T0_MS + ms


@pytest.mark.parametrize(
    "value",
    [
        True,
        False,
        -1,
        -0.5,
        float("nan"),
        float("inf"),
        float("-inf"),
        Decimal("NaN"),
        "",
        "yesterday",
        "1700000000",
        "1969-12-31T23:59:59Z",
        "2023-13-01T00:00:00Z",
        "x" * 65,
        [T0_MS],
        {"seconds": 1},
        1e20,
        10**400,
    ],
)
def test_bad_timestamp_is_refused_naming_the_field(value: object) -> None:
    # Given something that is not a usable timestamp; When checked
    with pytest.raises(InvalidArgumentError) as info:
        params.timestamp(value, "TimestampRange.StartTimestamp")
    # Then the message names the field in AWS's style
    assert "at 'TimestampRange.StartTimestamp' failed to satisfy constraint" in info.value.message


def test_parse_timestamp_is_the_timestamp_check() -> None:
    # Given the name PutMedia uses; Then it converts like the request check
    assert params.parse_timestamp(1_700_000_000.5, "x-amzn-producer-start-timestamp") == T0_MS + 500


@pytest.mark.parametrize(("value", "expected"), [(25, 25), (25.0, 25), (Decimal("25"), 25), (1, 1), (100, 100)])
def test_integer_accepts_whole_numbers(value: object, expected: int) -> None:
    # Given a whole JSON number; Then it is that int
    assert params.integer(minimum=1, maximum=100)(value, "MaxResults") == expected


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (True, "must be an integer"),
        ("25", "must be an integer"),
        (25.5, "must be an integer"),
        (float("nan"), "must be an integer"),
        (None, "must be an integer"),
        (0, "greater than or equal to 1"),
        (101, "less than or equal to 100"),
    ],
)
def test_integer_refuses_non_integers_and_out_of_range(value: object, rule: str) -> None:
    # Given a non-integer or an out-of-range value; When checked
    with pytest.raises(InvalidArgumentError) as info:
        params.integer(minimum=1, maximum=100)(value, "MaxResults")
    # Then the message names the field and the rule
    assert "'MaxResults'" in info.value.message
    assert rule in info.value.message


def test_string_message_is_in_aws_style() -> None:
    # Given a stream name that breaks the pattern; When checked
    check = params.string(min_len=1, max_len=256, pattern=params.compile_pattern(r"[a-zA-Z0-9_.-]+"))
    with pytest.raises(InvalidArgumentError) as info:
        check("a b", "StreamName")
    # Then the message is AWS's sentence, with the field as the client spelled it
    assert info.value.message == (
        "1 validation error detected: Value 'a b' at 'StreamName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
    )


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("", "length greater than or equal to 1"),
        ("abcde", "length less than or equal to 4"),
        ("ab!", "regular expression pattern"),
        ("ab\n", "regular expression pattern"),  # the whole string must match, not a prefix
        (12, "must be a string"),
    ],
)
def test_string_checks_type_length_and_full_pattern(value: object, rule: str) -> None:
    # Given a string check; When a value breaks one rule; Then that rule is named
    check = params.string(min_len=1, max_len=4, pattern=params.compile_pattern(r"[a-z]+"))
    with pytest.raises(InvalidArgumentError, match=rule):
        check(value, "Field")


def test_echoed_values_are_cut_short() -> None:
    # Given a very long bad value; When refused; Then the message does not repeat it whole
    with pytest.raises(InvalidArgumentError) as info:
        params.string(max_len=10)("A" * 5000, "NextToken")
    assert len(info.value.message) < 300
    assert "NextToken" in info.value.message


def test_enum_is_case_sensitive_and_lists_the_values() -> None:
    # Given an enum check; Then an exact value passes and a wrong-case one is refused with the allowed set
    check = params.enum(("JPEG", "PNG"))
    assert check("PNG", "Format") == "PNG"
    with pytest.raises(InvalidArgumentError, match=r"enum value set: \[JPEG, PNG\]"):
        check("png", "Format")


def test_required_and_optional_treat_null_as_missing() -> None:
    # Given a body with an explicit null and a missing member
    body: dict[str, Any] = {"Format": None}
    # Then optional reads both as None, and required refuses both naming the field
    assert params.optional(body, "Format", params.enum(("JPEG",))) is None
    assert params.optional(body, "Other", params.enum(("JPEG",))) is None
    for name in ("Format", "Other"):
        with pytest.raises(
            InvalidArgumentError, match=f"'{name}' failed to satisfy constraint: Member must not be null"
        ):
            params.required(body, name, params.enum(("JPEG",)))


def test_nested_members_are_named_by_dotted_path() -> None:
    # Given a nested structure missing a member; When read with its parent path
    with pytest.raises(InvalidArgumentError, match=r"'FragmentSelector\.TimestampRange'"):
        params.required({}, "TimestampRange", params.structure, parent="FragmentSelector")


def test_string_map_checks_size_keys_and_values() -> None:
    # Given a map check of at most 2 entries with lowercase keys
    check = params.string_map(
        min_entries=1, max_entries=2, key=params.string(pattern=params.compile_pattern("[a-z]+")), value=params.string()
    )
    # Then a good map passes, and each kind of bad map is refused naming the map
    assert check({"a": "1"}, "Tags") == {"a": "1"}
    for bad in ({}, {"a": "1", "b": "2", "c": "3"}, {"A": "1"}, {"a": 1}, ["a"]):
        with pytest.raises(InvalidArgumentError, match="Tags"):
            check(bad, "Tags")


def test_unicode_class_pattern_matches_letters_spaces_numbers_and_extras() -> None:
    # Given the tag pattern of the model (\p{L}\p{Z}\p{N} and _.:/=+-@)
    pattern = params.UnicodeClassPattern("[...]*", categories="LZN", extra="_.:/=+-@")
    # Then letters of any script, spaces, digits and the extras match, and other symbols do not
    assert pattern.fullmatch("Größe 東京 ٣ _.:/=+-@")
    assert not pattern.fullmatch("a#b")
    assert not pattern.fullmatch("a\tb")


def test_request_body_must_be_an_object() -> None:
    # Given a body that is a JSON list; Then it is refused with the documented sentence
    assert params.request_body({"a": 1}) == {"a": 1}
    with pytest.raises(InvalidArgumentError, match="request body must be a JSON object"):
        params.request_body([1])
