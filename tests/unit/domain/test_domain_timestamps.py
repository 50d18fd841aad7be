"""Timestamps as clients send them, read as epoch ms; refusals name the field (body member or PutMedia header)."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from stillframe.domain.put_media_headers import PutMediaHeaders
from stillframe.domain.refusals import parse
from stillframe.domain.requests import TimestampRange
from stillframe.domain.timestamps import millis
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
    assert millis(value) == expected_ms


def test_naive_iso_timestamp_is_utc_whatever_the_local_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a server whose local time zone is not UTC
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        # When a naive ISO timestamp is read; Then it is taken as UTC
        assert millis("2023-11-14T22:13:20") == T0_MS
    finally:
        monkeypatch.undo()
        time.tzset()


def test_every_millisecond_fraction_survives_float_error() -> None:
    # Given epoch seconds with each of the 1000 millisecond fractions, as JSON floats
    for ms in range(1000):
        value = float(f"1700000000.{ms:03d}")
        # Then each converts to exactly that millisecond
        assert millis(value) == T0_MS + ms


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
        parse(TimestampRange, {"StartTimestamp": value, "EndTimestamp": T0_MS / 1000})
    # Then the message names the field in AWS's style
    assert "at 'StartTimestamp' failed to satisfy constraint" in info.value.message


@pytest.mark.parametrize("text", ["1700000000.5", "2023-11-14T22:13:20.5Z"])
def test_put_media_start_header_converts_like_a_body_timestamp(text: str) -> None:
    # Given the producer start as PutMedia's header text (epoch seconds or ISO-8601); When validated
    headers = parse(PutMediaHeaders, {"x-amzn-stream-name": "cam", "x-amzn-producer-start-timestamp": text})
    # Then it is the same epoch ms a body timestamp gives
    assert headers.producer_start_ms == T0_MS + 500


def test_put_media_bad_headers_are_refused_naming_the_header() -> None:
    # Given a bad timestamp, timecode type or stream name header; Then each refusal names its header
    for name, value in (
        ("x-amzn-producer-start-timestamp", "yesterday"),
        ("x-amzn-fragment-timecode-type", "SIDEWAYS"),
        ("x-amzn-stream-name", "a b"),
    ):
        with pytest.raises(InvalidArgumentError) as info:
            parse(PutMediaHeaders, {"x-amzn-stream-name": "cam", name: value})
        assert f"at '{name}' failed to satisfy constraint" in info.value.message
