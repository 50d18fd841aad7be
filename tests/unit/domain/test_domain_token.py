"""NextToken codec: round trips, and refuses anything altered, foreign, or junk."""

from __future__ import annotations

import base64
import re
import string

import pytest

from stillframe.domain.requests import parse_get_images
from stillframe.domain.token import FOREIGN, MALFORMED, TokenCodec, for_stream
from stillframe.errors import InvalidArgumentError

SECRET = b"0123456789abcdef0123456789abcdef"
BINDING = b'{"Operation":"GetImages","Stream":"cam-1"}'
GET_IMAGES_TOKEN = re.compile(r"[a-zA-Z0-9+/]+={0,2}")
LIST_STREAMS_TOKEN = re.compile(r"[a-zA-Z0-9+/=]*")
B64_ALPHABET = string.ascii_letters + string.digits + "+/"


@pytest.fixture
def codec() -> TokenCodec:
    return TokenCodec(SECRET)


@pytest.mark.parametrize("cursor", ["0", "25", "1500", "", "streams/cam-ü/stream.json", "x" * 3000])
def test_round_trip(codec: TokenCodec, cursor: str) -> None:
    # Given a cursor encoded for a request
    token = codec.encode(BINDING, cursor)
    # Then the token has the modeled shape, and decoding with the same request gives the cursor back
    assert GET_IMAGES_TOKEN.fullmatch(token)
    assert len(token) <= 4096
    assert codec.decode(token, BINDING) == cursor


def test_tokens_for_short_cursors_fit_list_streams(codec: TokenCodec) -> None:
    # Given a ListStreams cursor as long as the longest stream key
    token = codec.encode(b"ListStreams", "streams/" + "n" * 256 + "/stream.json")
    # Then the token satisfies ListStreams' own NextToken limits (1024 chars, [a-zA-Z0-9+/=]*)
    assert len(token) <= 1024
    assert LIST_STREAMS_TOKEN.fullmatch(token)


def test_cursor_too_long_for_a_token_is_a_programming_error(codec: TokenCodec) -> None:
    # Given a cursor that cannot fit in 4096 characters; Then encoding refuses it
    with pytest.raises(ValueError):
        codec.encode(BINDING, "x" * 3100)


def test_every_altered_byte_is_refused(codec: TokenCodec) -> None:
    # Given a valid token
    raw = base64.b64decode(codec.encode(BINDING, "125"))
    for index in range(len(raw)):
        # When any one byte is altered (version, cursor, or MAC)
        altered = bytearray(raw)
        altered[index] ^= 0x01
        # Then the altered token is refused
        with pytest.raises(InvalidArgumentError) as info:
            codec.decode(base64.b64encode(bytes(altered)).decode(), BINDING)
        assert "NextToken" in info.value.message


def test_every_altered_character_is_refused(codec: TokenCodec) -> None:
    # Given a valid token (its last character carries unused low bits)
    token = codec.encode(BINDING, "25")
    for index, char in enumerate(token):
        if char == "=":
            continue
        for replacement in (B64_ALPHABET[(B64_ALPHABET.index(char) + 1) % 64], "A" if char != "A" else "B"):
            # When any character is replaced by another base64 character
            altered = token[:index] + replacement + token[index + 1 :]
            # Then the token is refused (no second spelling of a token is accepted)
            with pytest.raises(InvalidArgumentError):
                codec.decode(altered, BINDING)


def test_token_for_other_parameters_is_refused(codec: TokenCodec) -> None:
    # Given a token issued for one request; When presented with another request's parameters
    token = codec.encode(BINDING, "25")
    # Then it does not belong to that request
    with pytest.raises(InvalidArgumentError) as info:
        codec.decode(token, BINDING + b" ")
    assert info.value.message == FOREIGN


def test_binding_and_cursor_cannot_trade_bytes(codec: TokenCodec) -> None:
    # Given a token for binding "ab" and cursor "c"
    raw = base64.b64decode(codec.encode(b"ab", "c"))
    version, mac = raw[:1], raw[-16:]
    # When its MAC is reused for binding "a" with cursor "bc" (the same bytes in a row)
    forged = base64.b64encode(version + b"bc" + mac).decode()
    # Then the forgery is refused
    with pytest.raises(InvalidArgumentError):
        codec.decode(forged, b"a")


def test_token_from_another_secret_is_refused(codec: TokenCodec) -> None:
    # Given a token from a server with another secret; When decoded here; Then it is refused
    foreign = TokenCodec(b"another secret, another server").encode(BINDING, "25")
    with pytest.raises(InvalidArgumentError) as info:
        codec.decode(foreign, BINDING)
    assert info.value.message == FOREIGN


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "!!!!",
        "abc",  # not a multiple of 4
        "AAAA",  # decodes, but far too short
        "A" * 4100,
        "QUJD\n",
        "QU JD",
        base64.b64encode(b"\x02" + b"25" + b"\x00" * 16).decode(),  # unknown version
        base64.b64encode(b"\x01" + b"\x00" * 15).decode(),  # shorter than a MAC
    ],
)
def test_junk_is_malformed(codec: TokenCodec, junk: str) -> None:
    # Given something that is not a token of this service; When decoded; Then it is malformed
    with pytest.raises(InvalidArgumentError) as info:
        codec.decode(junk, BINDING)
    assert info.value.message == MALFORMED


def test_non_string_token_is_malformed(codec: TokenCodec) -> None:
    # Given a token that is not even a string; Then it is malformed rather than a crash
    with pytest.raises(InvalidArgumentError, match="malformed"):
        codec.decode(25, BINDING)  # type: ignore[arg-type]


def test_empty_secret_is_refused() -> None:
    # Given no secret; Then no codec can be made (tokens would be forgeable)
    with pytest.raises(ValueError):
        TokenCodec(b"")


def test_token_from_get_images_page_is_bound_to_its_request(codec: TokenCodec) -> None:
    # Given two GetImages requests that differ only in Format
    base = {
        "StreamName": "cam-1",
        "ImageSelectorType": "SERVER_TIMESTAMP",
        "StartTimestamp": 1_700_000_000,
        "EndTimestamp": 1_700_000_100,
        "Format": "JPEG",
    }
    jpeg, png = parse_get_images(base), parse_get_images({**base, "Format": "PNG"})
    token = codec.encode(jpeg.binding(), "25")
    # Then the JPEG request's token resumes the JPEG request and is refused by the PNG one
    assert codec.decode(token, parse_get_images({**base, "NextToken": token}).binding()) == "25"
    with pytest.raises(InvalidArgumentError, match="does not belong"):
        codec.decode(token, png.binding())


def test_continuation_tokens_fit_get_media_and_are_bound_to_their_stream() -> None:
    codec = TokenCodec(b"secret")
    here = for_stream(b"GetMedia cam", "arn:aws:kinesisvideo:us-east-1:000000000000:stream/cam/1")
    there = for_stream(b"GetMedia cam", "arn:aws:kinesisvideo:us-east-1:000000000000:stream/cam/2")
    # A fragment number as Stillframe makes them (24 digits) fits the ContinuationToken shape with room to spare
    token = codec.encode_continuation(here, "1796629700962" + "00000" + "151931")
    assert re.fullmatch(r"[a-zA-Z0-9_.\-]{1,128}", token)
    assert codec.decode_continuation(token, here) == "1796629700962" + "00000" + "151931"
    # And it means nothing for a later stream of the same name, nor once altered
    for binding, spelled in [(there, token), (here, token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:])]:
        with pytest.raises(InvalidArgumentError):
            codec.decode_continuation(spelled, binding)
