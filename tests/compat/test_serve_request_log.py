"""serve's log as an operator reads it: one line per request, from a real `stillframe serve` process's stderr."""

from __future__ import annotations

import http.client
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest

from tests.support.serve import running_serve

START = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)


def client(service: str, url: str) -> Any:
    return boto3.client(
        service, endpoint_url=url, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )


def request_lines(log: Path) -> list[dict[str, str]]:
    """The ``request key=value ...`` lines of the log, as dicts."""
    lines = []
    for line in log.read_text().splitlines():
        _, level, message, *pairs = line.split(" ")
        if level == "INFO" and message == "request":
            lines.append(dict(pair.split("=", 1) for pair in pairs))
    return lines


def raw(url: str, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> str:
    """Send one request; the request id of its answer."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    response.read()
    conn.close()
    return str(response.headers["x-amzn-RequestId"])


def test_every_request_is_one_line_with_operation_stream_status_error_type_and_request_id(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with running_serve("--data-dir", str(tmp_path / "data"), log=log) as (url, _):
        # Given a stream made and read with boto3, a failing call, a PutMedia refusal and a health check
        kv = client("kinesisvideo", url)
        created = kv.create_stream(StreamName="log-lobby", DataRetentionInHours=1)["ResponseMetadata"]["RequestId"]
        with pytest.raises(kv.exceptions.ResourceNotFoundException) as missing:
            kv.describe_stream(StreamName="log-nowhere")
        images = client("kinesis-video-archived-media", url).get_images(
            StreamARN=kv.describe_stream(StreamName="log-lobby")["StreamInfo"]["StreamARN"],
            ImageSelectorType="PRODUCER_TIMESTAMP", StartTimestamp=START, EndTimestamp=START, Format="JPEG",
        )  # fmt: skip
        put = raw(url, "POST", "/putMedia", b"not mkv", {"x-amzn-stream-name": "log-lobby"})
        health = raw(url, "GET", "/health")
        time.sleep(0.2)  # the line is written just after the answer leaves
    lines = {line["request_id"]: line for line in request_lines(log)}

    # Then each request has its line, found by the request id the client was given
    assert lines[created] | {"duration_ms": "x", "bytes": "x"} == {
        "method": "POST", "path": "/createStream", "operation": "CreateStream", "stream": "log-lobby",
        "status": "200", "error_type": "-", "request_id": created, "bytes": "x", "duration_ms": "x",
    }  # fmt: skip
    assert float(lines[created]["duration_ms"]) > 0
    failed = lines[missing.value.response["ResponseMetadata"]["RequestId"]]
    assert (failed["operation"], failed["stream"], failed["status"], failed["error_type"]) == (
        "DescribeStream", "log-nowhere", "404", "ResourceNotFoundException",
    )  # fmt: skip
    by_arn = lines[images["ResponseMetadata"]["RequestId"]]
    assert (by_arn["operation"], by_arn["stream"], by_arn["status"]) == ("GetImages", "log-lobby", "200")
    # And PutMedia's stream comes from its header, its error type from the answer
    assert lines[put]["operation"] == "PutMedia" and lines[put]["stream"] == "log-lobby"
    assert lines[put]["status"].startswith("4") and lines[put]["error_type"] != "-"
    # And paths that are no KVS operation say so
    assert (lines[health]["path"], lines[health]["operation"], lines[health]["stream"]) == ("/health", "-", "-")
