"""`stillframe serve` over real HTTP: the proxy event the handler sees, error shapes, limits and a clean stop.

Most tests run the server in-process with an injected handler (an echo of the event); the last one runs the real
`stillframe serve` process with the real handler and stops it with SIGTERM.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import os
import signal
import stat
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

import stillframe
from stillframe.server import ServerConfig, StillframeServer
from tests.support.inprocess import in_process_servers


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer with the event and what the context offers."""
    seen = {
        "event": event,
        "function_name": context.function_name,
        "request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
    }
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(seen)}


@pytest.fixture
def serve() -> Iterator[Callable[..., StillframeServer]]:
    """Start an in-process server with a given handler; stopped after the test."""
    with in_process_servers() as start:
        yield lambda handler, config=None: start(handler, config=config)


def connect(server: StillframeServer) -> http.client.HTTPConnection:
    parts = urlsplit(server.url)
    return http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)


def post(
    server: StillframeServer, path: str, body: bytes, headers: list[tuple[str, str]]
) -> tuple[http.client.HTTPResponse, bytes]:
    conn = connect(server)
    conn.putrequest("POST", path)
    for name, value in [*headers, ("Content-Length", str(len(body)))]:
        conn.putheader(name, value)
    conn.endheaders(body)
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response, payload


def test_json_request_becomes_a_rest_proxy_event(serve: Callable[..., StillframeServer]) -> None:
    # Given a server whose handler echoes the event
    server = serve(echo, ServerConfig(time_budget_ms=10_000, account_id="123456789012"))
    port = server.server_address[1]

    # When a JSON request arrives with a query string and a repeated header
    response, payload = post(
        server,
        "/getImages?x=1&x=2&y=",
        b'{"StreamName": "cam"}',
        [("Content-Type", "application/json"), ("X-Multi", "a"), ("X-Multi", "b")],
    )
    seen = json.loads(payload)
    event = seen["event"]

    # Then path, method, query and headers are in API Gateway's shape
    assert response.status == 200
    assert (event["resource"], event["path"], event["httpMethod"]) == ("/getImages", "/getImages", "POST")
    assert event["queryStringParameters"] == {"x": "2", "y": ""}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"], "y": [""]}
    assert event["headers"]["X-Multi"] == "b" and event["multiValueHeaders"]["X-Multi"] == ["a", "b"]
    assert event["headers"]["X-Forwarded-Proto"] == "http"
    # And the JSON body is passed as text
    assert (event["body"], event["isBase64Encoded"]) == ('{"StreamName": "cam"}', False)
    # And the request context names the request, the host it was reached on and the caller, with no stage prefix
    context = event["requestContext"]
    assert str(uuid.UUID(context["requestId"])) == context["requestId"] == seen["request_id"]
    assert context["domainName"] == f"127.0.0.1:{port}" == event["headers"]["Host"]
    assert (context["path"], context["resourcePath"], context["httpMethod"]) == ("/getImages", "/getImages", "POST")
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert (context["accountId"], context["apiId"], context["protocol"]) == ("123456789012", "local", "HTTP/1.1")
    assert isinstance(context["requestTimeEpoch"], int) and context["stage"]
    # And the Lambda context counts down from the time budget plus a margin
    assert seen["function_name"] == "stillframe-local"
    assert 0 < seen["remaining_ms"] <= 15_000


def test_binary_body_arrives_base64_encoded(serve: Callable[..., StillframeServer]) -> None:
    # Given an echoing server / When a binary media body is posted
    server = serve(echo)
    media = bytes(range(256)) * 64
    _, payload = post(server, "/putMedia", media, [("Content-Type", "application/octet-stream")])
    event = json.loads(payload)["event"]

    # Then it is base64 with the flag set, and decodes to the exact bytes
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == media


def test_handler_response_is_written_as_given(serve: Callable[..., StillframeServer]) -> None:
    # Given a handler answering a base64 body with single and multi-value headers
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {
            "statusCode": 202,
            "headers": {"Content-Type": "image/jpeg", "x-amzn-RequestId": "r-1"},
            "multiValueHeaders": {"X-Seen": ["one", "two"]},
            "body": base64.b64encode(b"\xff\xd8jpeg").decode(),
            "isBase64Encoded": True,
        }

    server = serve(handler)

    # When a request is made
    response, payload = post(server, "/x", b"{}", [("Content-Type", "application/json")])

    # Then status, headers and the decoded bytes reach the client
    assert response.status == 202
    assert payload == b"\xff\xd8jpeg"
    assert response.getheader("Content-Type") == "image/jpeg"
    assert response.getheader("x-amzn-RequestId") == "r-1"
    assert response.headers.get_all("X-Seen") == ["one", "two"]


def test_handler_crash_is_a_500_in_the_aws_shape(
    serve: Callable[..., StillframeServer], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a handler that raises with a private detail (and server logs reaching caplog even after a CLI run)
    monkeypatch.setattr(logging.getLogger("stillframe.server"), "propagate", True)

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise RuntimeError("secret detail /srv/keys")

    server = serve(handler)

    # When a request is made
    with caplog.at_level("ERROR", logger="stillframe.server"):
        response, payload = post(server, "/getImages", b"{}", [("Content-Type", "application/json")])

    # Then the client sees InternalFailure without the detail or a traceback
    assert response.status == 500
    assert response.getheader("x-amzn-ErrorType") == "InternalFailure"
    body = json.loads(payload)
    assert body["__type"] == "InternalFailure" and body["message"]
    assert b"secret detail" not in payload and b"Traceback" not in payload
    # And the server log has the traceback
    failures = [r for r in caplog.records if r.name == "stillframe.server" and r.exc_info]
    assert failures and "secret detail" in str(failures[0].exc_info[1])


def test_oversized_body_is_refused_with_413(serve: Callable[..., StillframeServer]) -> None:
    # Given a server with a 64 KiB body limit and a handler that must not be called
    calls: list[str] = []
    server = serve(lambda event, context: calls.append("called") or {}, ServerConfig(max_body_bytes=64 * 1024))

    # When a client sends a much larger body in full (more than socket buffers hold, so the server must drain it)
    response, payload = post(
        server, "/putMedia", b"\0" * (8 * 1024 * 1024), [("Content-Type", "application/octet-stream")]
    )

    # Then it reads a 413 in the AWS shape, and the handler never ran
    assert response.status == 413
    assert response.getheader("x-amzn-ErrorType") == "InvalidArgumentException"
    assert json.loads(payload)["__type"] == "InvalidArgumentException"
    assert calls == []


def test_stop_finishes_the_request_in_flight_and_closes_idle_connections(
    serve: Callable[..., StillframeServer],
) -> None:
    # Given a handler that blocks until released, one idle keep-alive connection and one request in flight
    entered, release = threading.Event(), threading.Event()

    def slow(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if event["path"] == "/slow":
            entered.set()
            release.wait(30)
        return {"statusCode": 200, "headers": {}, "body": event["path"]}

    server = serve(slow)
    idle = connect(server)
    idle.request("POST", "/fast", body=b"{}")
    assert idle.getresponse().read() == b"/fast"
    answers: list[bytes] = []
    client = threading.Thread(target=lambda: answers.append(post(server, "/slow", b"{}", [])[1]))
    client.start()
    assert entered.wait(30)

    # When the server is stopped while the request is still running, then the handler finishes
    stopper = threading.Thread(target=server.stop)
    stopper.start()
    release.set()
    stopper.join(30)
    client.join(30)

    # Then the stop completed, the in-flight request got its answer, and new connections are refused
    assert not stopper.is_alive()
    assert answers == [b"/slow"]
    with pytest.raises(OSError):
        connect(server).request("POST", "/fast", body=b"{}")
    idle.close()


def test_sigterm_stops_a_real_serve_process_cleanly(tmp_path: Path) -> None:
    # Given a real `stillframe serve` on a free port with the real handler
    data_dir = tmp_path / "data"
    src = str(Path(stillframe.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))}
    env["PYTHONUNBUFFERED"] = "1"
    process = subprocess.Popen(
        [sys.executable, "-m", "stillframe.cli.main", "serve", "--port", "0", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        banner = _first_line(process)
        assert banner.startswith("Stillframe listening on http://127.0.0.1:"), _failure(process, banner)
        url = banner.split("listening on ", 1)[1].split()[0]

        # When a boto3 client uses it (leaving a keep-alive connection open) and SIGTERM arrives
        from stillframe.client import clients

        control, _ = clients(url, region="us-east-1")
        assert control.list_streams()["StreamInfoList"] == []
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    # Then it exits 0 saying "stopped", after logging the request, and left a private token secret behind
    assert process.returncode == 0, err
    assert out.rstrip().endswith("stopped")
    assert "request method=POST path=/listStreams operation=ListStreams stream=- status=200 error_type=-" in err
    assert "Traceback" not in err
    assert stat.S_IMODE((data_dir / "token-secret").stat().st_mode) == 0o600


def _first_line(process: subprocess.Popen[str]) -> str:
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline() if process.stdout else ""))
    reader.start()
    reader.join(60)
    return lines[0] if lines else ""


def _failure(process: subprocess.Popen[str], banner: str) -> str:
    if process.poll() is None:
        process.kill()
    _, err = process.communicate()
    return f"serve did not start (banner {banner!r}):\n{err}"
