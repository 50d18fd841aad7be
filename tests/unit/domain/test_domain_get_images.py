"""GetImages request validation: every row of API.md's GetImages table and every field rule."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError as PydanticValidationError

from stillframe.domain.requests import GetImagesRequest, parse_get_images
from stillframe.errors import InvalidArgumentError, StillframeError, ValidationError

T0 = 1_700_000_000  # 2023-11-14T22:13:20Z
ARN = "arn:aws:kinesisvideo:us-east-1:123456789012:stream/cam-1/1700000000000"
DROP = object()  # marks a field to remove from the base body

BASE: dict[str, Any] = {
    "StreamName": "cam-1",
    "ImageSelectorType": "PRODUCER_TIMESTAMP",
    "StartTimestamp": T0,
    "EndTimestamp": T0 + 10,
    "Format": "JPEG",
}


def body(**changes: Any) -> dict[str, Any]:
    """The base body with fields changed, added, or removed (value DROP)."""
    result = {**BASE, **changes}
    return {key: value for key, value in result.items() if value is not DROP}


def rejected(request_body: object) -> StillframeError:
    """Parse a body that must be refused and return the error."""
    with pytest.raises(StillframeError) as info:
        parse_get_images(request_body)
    return info.value


# (id, body, error class, text the message must contain: the field name as the client sent it)
INVALID = [
    # Neither StreamName nor StreamARN, or both naming different streams
    ("no-stream", body(StreamName=DROP), InvalidArgumentError, "StreamName"),
    ("name-and-arn-differ", body(StreamARN=ARN.replace("cam-1", "cam-2")), InvalidArgumentError, "StreamARN"),
    ("name-pattern", body(StreamName="a b"), InvalidArgumentError, "StreamName"),
    ("name-empty", body(StreamName=""), InvalidArgumentError, "StreamName"),
    ("name-too-long", body(StreamName="a" * 257), InvalidArgumentError, "StreamName"),
    ("name-not-string", body(StreamName=7), InvalidArgumentError, "StreamName"),
    ("arn-pattern", body(StreamName=DROP, StreamARN="arn:aws:s3:::bucket"), InvalidArgumentError, "StreamARN"),
    ("arn-partial", body(StreamName=DROP, StreamARN=ARN + "/x"), InvalidArgumentError, "StreamARN"),
    (
        "arn-too-long",
        body(StreamName=DROP, StreamARN=ARN.replace("cam-1", "c" * 1000)),
        InvalidArgumentError,
        "StreamARN",
    ),
    # Missing ImageSelectorType / StartTimestamp / EndTimestamp / Format, bad enum
    ("selector-missing", body(ImageSelectorType=DROP), InvalidArgumentError, "ImageSelectorType"),
    ("selector-null", body(ImageSelectorType=None), InvalidArgumentError, "ImageSelectorType"),
    ("selector-case", body(ImageSelectorType="producer_timestamp"), InvalidArgumentError, "ImageSelectorType"),
    ("selector-unknown", body(ImageSelectorType="ARRIVAL"), InvalidArgumentError, "ImageSelectorType"),
    ("start-missing", body(StartTimestamp=DROP), InvalidArgumentError, "StartTimestamp"),
    ("start-junk", body(StartTimestamp="yesterday"), InvalidArgumentError, "StartTimestamp"),
    ("start-bool", body(StartTimestamp=True), InvalidArgumentError, "StartTimestamp"),
    ("start-negative", body(StartTimestamp=-1), InvalidArgumentError, "StartTimestamp"),
    ("start-nan", body(StartTimestamp=float("nan")), InvalidArgumentError, "StartTimestamp"),
    ("end-missing", body(EndTimestamp=DROP), InvalidArgumentError, "EndTimestamp"),
    ("end-infinite", body(EndTimestamp=float("inf")), InvalidArgumentError, "EndTimestamp"),
    ("format-missing", body(Format=DROP), InvalidArgumentError, "Format"),
    ("format-unknown", body(Format="GIF"), InvalidArgumentError, "Format"),
    ("format-case", body(Format="jpeg"), InvalidArgumentError, "Format"),
    # EndTimestamp < StartTimestamp, or End - Start > 300 s
    ("end-before-start", body(EndTimestamp=T0 - 1), InvalidArgumentError, "EndTimestamp"),
    ("end-1ms-before-start", body(EndTimestamp=T0 - 0.001), InvalidArgumentError, "EndTimestamp"),
    ("range-over-300s", body(EndTimestamp=T0 + 300.001), InvalidArgumentError, "300"),
    # SamplingInterval < 200 ms
    ("interval-199", body(SamplingInterval=199), InvalidArgumentError, "SamplingInterval"),
    ("interval-zero", body(SamplingInterval=0), InvalidArgumentError, "SamplingInterval"),
    ("interval-string", body(SamplingInterval="3000"), InvalidArgumentError, "SamplingInterval"),
    ("interval-fraction", body(SamplingInterval=200.5), InvalidArgumentError, "SamplingInterval"),
    ("interval-over-int32", body(SamplingInterval=2**31), InvalidArgumentError, "SamplingInterval"),
    # FormatConfig other than one JPEGQuality key with an integer string 1..100
    ("config-empty", body(FormatConfig={}), InvalidArgumentError, "FormatConfig"),
    ("config-other-key", body(FormatConfig={"Quality": "80"}), InvalidArgumentError, "FormatConfig"),
    ("config-two-keys", body(FormatConfig={"JPEGQuality": "80", "X": "1"}), InvalidArgumentError, "FormatConfig"),
    ("quality-0", body(FormatConfig={"JPEGQuality": "0"}), InvalidArgumentError, "FormatConfig"),
    ("quality-101", body(FormatConfig={"JPEGQuality": "101"}), InvalidArgumentError, "FormatConfig"),
    ("quality-fraction", body(FormatConfig={"JPEGQuality": "8.5"}), InvalidArgumentError, "FormatConfig"),
    ("quality-word", body(FormatConfig={"JPEGQuality": "abc"}), InvalidArgumentError, "FormatConfig"),
    ("quality-empty", body(FormatConfig={"JPEGQuality": ""}), InvalidArgumentError, "FormatConfig"),
    ("quality-number", body(FormatConfig={"JPEGQuality": 80}), InvalidArgumentError, "FormatConfig"),
    ("config-not-map", body(FormatConfig="JPEGQuality=80"), InvalidArgumentError, "FormatConfig"),
    ("png-bad-config", body(Format="PNG", FormatConfig={"JPEGQuality": "0"}), InvalidArgumentError, "FormatConfig"),
    # Only WidthPixels given -> ValidationException; ranges
    ("width-only", body(WidthPixels=640), ValidationError, "WidthPixels"),
    ("width-0", body(WidthPixels=0, HeightPixels=100), InvalidArgumentError, "WidthPixels"),
    ("width-3841", body(WidthPixels=3841, HeightPixels=100), InvalidArgumentError, "WidthPixels"),
    ("width-string", body(WidthPixels="640", HeightPixels=100), InvalidArgumentError, "WidthPixels"),
    ("width-bool", body(WidthPixels=True, HeightPixels=100), InvalidArgumentError, "WidthPixels"),
    ("height-0", body(HeightPixels=0), InvalidArgumentError, "HeightPixels"),
    ("height-2161", body(HeightPixels=2161), InvalidArgumentError, "HeightPixels"),
    ("height-fraction", body(HeightPixels=100.5), InvalidArgumentError, "HeightPixels"),
    # MaxResults outside 1..100
    ("max-0", body(MaxResults=0), InvalidArgumentError, "MaxResults"),
    ("max-101", body(MaxResults=101), InvalidArgumentError, "MaxResults"),
    ("max-string", body(MaxResults="10"), InvalidArgumentError, "MaxResults"),
    ("max-fraction", body(MaxResults=2.5), InvalidArgumentError, "MaxResults"),
    # NextToken malformed (length, pattern)
    ("token-empty", body(NextToken=""), InvalidArgumentError, "NextToken"),
    ("token-pattern", body(NextToken="abc$"), InvalidArgumentError, "NextToken"),
    ("token-too-many-pads", body(NextToken="abc==="), InvalidArgumentError, "NextToken"),
    ("token-too-long", body(NextToken="A" * 4097), InvalidArgumentError, "NextToken"),
    ("token-not-string", body(NextToken=12), InvalidArgumentError, "NextToken"),
]


@pytest.mark.parametrize(("case", "request_body", "error", "field"), INVALID, ids=[row[0] for row in INVALID])
def test_invalid_request_is_refused_with_the_modeled_error_naming_the_field(
    case: str, request_body: dict[str, Any], error: type[StillframeError], field: str
) -> None:
    # Given a GetImages body that breaks one rule
    # When it is parsed
    err = rejected(request_body)
    # Then the error is the modeled class (exactly), and its message names the field
    assert type(err) is error
    assert field in err.message


@pytest.mark.parametrize("not_an_object", [[], "x", 3, None, [BASE]])
def test_body_that_is_not_a_json_object_is_refused(not_an_object: object) -> None:
    # Given a body that is valid JSON but not an object; When parsed
    err = rejected(not_an_object)
    # Then InvalidArgumentException says so
    assert type(err) is InvalidArgumentError
    assert "request body must be a JSON object" in err.message


def test_minimal_request_gets_the_documented_defaults() -> None:
    # Given only the required fields; When parsed
    request = parse_get_images(body())
    # Then the defaults of API.md apply
    assert request.stream.stream_name == "cam-1"
    assert (request.start_ms, request.end_ms) == (T0 * 1000, (T0 + 10) * 1000)
    assert request.interval_ms == 3000
    assert request.quality == 80
    assert (request.width, request.height) == (None, None)
    assert request.max_results is None
    assert request.page_size == 25
    assert request.next_token is None


def test_stream_arn_alone_names_the_stream() -> None:
    # Given only StreamARN; When parsed; Then the stream name comes from the ARN
    request = parse_get_images(body(StreamName=DROP, StreamARN=ARN))
    assert request.stream.stream_name == "cam-1"
    assert request.stream.arn == ARN


def test_stream_name_and_matching_arn_are_accepted() -> None:
    # Given StreamName and an ARN naming the same stream; When parsed; Then both are kept
    request = parse_get_images(body(StreamARN=ARN))
    assert (request.stream.name, request.stream.arn) == ("cam-1", ARN)


@pytest.mark.parametrize(
    ("changes", "attribute", "expected"),
    [
        ({"SamplingInterval": 200}, "interval_ms", 200),
        ({"SamplingInterval": 1000.0}, "interval_ms", 1000),
        ({"SamplingInterval": None}, "interval_ms", 3000),
        ({"EndTimestamp": T0}, "end_ms", T0 * 1000),
        ({"EndTimestamp": T0 + 300}, "end_ms", (T0 + 300) * 1000),
        ({"FormatConfig": {"JPEGQuality": "1"}}, "quality", 1),
        ({"FormatConfig": {"JPEGQuality": "100"}}, "quality", 100),
        ({"Format": "PNG", "FormatConfig": {"JPEGQuality": "50"}}, "image_format", "PNG"),
        ({"HeightPixels": 240}, "height", 240),
        ({"HeightPixels": 240}, "width", None),
        ({"WidthPixels": 3840, "HeightPixels": 2160}, "width", 3840),
        ({"MaxResults": 1}, "page_size", 1),
        ({"MaxResults": 100}, "page_size", 25),
        ({"MaxResults": 100}, "max_results", 100),
        ({"ImageSelectorType": "SERVER_TIMESTAMP"}, "selector", "SERVER_TIMESTAMP"),
        ({"StartTimestamp": T0 + 0.123, "EndTimestamp": T0 + 0.5}, "start_ms", T0 * 1000 + 123),
        ({"StartTimestamp": "2023-11-14T22:13:20.250Z"}, "start_ms", T0 * 1000 + 250),
        ({"NextToken": "AQ+/9=="}, "next_token", "AQ+/9=="),
        ({"SomeFutureField": 1}, "interval_ms", 3000),
    ],
)
def test_valid_variations_are_accepted(changes: dict[str, Any], attribute: str, expected: object) -> None:
    # Given a valid body with one variation; When parsed
    request = parse_get_images(body(**changes))
    # Then the request carries the value the client meant
    assert getattr(request, attribute) == expected


def test_request_is_immutable() -> None:
    # Given a parsed request; When code tries to change it; Then it cannot
    request = parse_get_images(body())
    with pytest.raises(PydanticValidationError, match="frozen"):
        request.interval_ms = 10  # type: ignore[misc]


def test_binding_is_the_same_for_the_same_parameters_however_the_stream_is_named() -> None:
    # Given the same request by StreamName, by StreamARN, and with a NextToken
    by_name = parse_get_images(body())
    by_arn = parse_get_images(body(StreamName=DROP, StreamARN=ARN))
    with_token = parse_get_images(body(NextToken="AAAA"))
    # Then all bind tokens identically (the token itself is not part of the binding)
    assert by_name.binding() == by_arn.binding() == with_token.binding()


@pytest.mark.parametrize(
    "changes",
    [
        {"StreamName": "cam-2"},
        {"ImageSelectorType": "SERVER_TIMESTAMP"},
        {"StartTimestamp": T0 + 1},
        {"EndTimestamp": T0 + 11},
        {"SamplingInterval": 1000},
        {"Format": "PNG"},
        {"FormatConfig": {"JPEGQuality": "81"}},
        {"HeightPixels": 120},
        {"WidthPixels": 160, "HeightPixels": 120},
        {"MaxResults": 10},
    ],
    ids=lambda changes: ",".join(changes),
)
def test_binding_changes_with_every_parameter(changes: dict[str, Any]) -> None:
    # Given a request and the same request with one parameter changed
    base: GetImagesRequest = parse_get_images(body())
    other = parse_get_images(body(**changes))
    # Then their bindings differ, so a token from one is refused by the other
    assert base.binding() != other.binding()
