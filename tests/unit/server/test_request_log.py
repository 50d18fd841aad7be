"""What serve's per-request log line says about a request: its operation and stream."""

from __future__ import annotations

import json

import pytest

from stillframe.server.request_log import MAX_SCANNED_BODY, operation_of, stream_of


@pytest.mark.parametrize(
    ("target", "operation"),
    [
        ("/getImages", "GetImages"),
        ("/listStreams?x=1", "ListStreams"),
        ("/%67etImages", "GetImages"),  # routed on the decoded path, as the event's path is
        ("/health", None),
        ("/", None),
        ("/getImages/extra", None),
    ],
)
def test_the_operation_is_the_route_the_path_names(target: str, operation: str | None) -> None:
    assert operation_of(target) == operation


def test_json_requests_name_their_stream_by_name_or_arn() -> None:
    arn = "arn:aws:kinesisvideo:us-east-1:000000000000:stream/garage/1700000000000"
    assert stream_of("GetImages", [], json.dumps({"StreamName": "lobby"}).encode()) == "lobby"
    assert stream_of("DescribeStream", [], json.dumps({"StreamARN": arn}).encode()) == "garage"


def test_put_media_names_its_stream_in_a_header_and_its_body_is_not_read() -> None:
    headers = [("x-amzn-stream-name", "lobby"), ("Content-Type", "application/octet-stream")]
    assert stream_of("PutMedia", headers, b"\x1a\x45\xdf\xa3" + b"\0" * (MAX_SCANNED_BODY * 2)) == "lobby"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[1, 2]",
        json.dumps({"StreamName": "two words\nINFO forged line"}).encode(),  # never written into the log
        json.dumps({"StreamName": 7}).encode(),
        b'{"a": ' * 5000 + b"1" + b"}" * 5000,  # deeper than the parser goes
        json.dumps({"StreamName": "lobby", "pad": "x" * MAX_SCANNED_BODY}).encode(),
    ],
)
def test_no_stream_when_the_body_names_none_validly_or_is_large(body: bytes) -> None:
    assert stream_of("GetImages", [], body) is None


def test_paths_that_are_no_operation_name_no_stream() -> None:
    assert stream_of(None, [("x-amzn-stream-name", "lobby")], b'{"StreamName": "lobby"}') is None
