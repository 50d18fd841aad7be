"""The server's gate over real HTTP: refused requests get the AWS error shape, never reach the handler, are logged."""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.credentials import Credentials

from stillframe.client import Signing, sign_headers
from stillframe.server import RequestGate, SigV4Verifier, StillframeServer, TokenBucket

AKID = "AKIDLOCAL"
SECRET = "local-secret"
SIGNING = Signing("us-east-1", "kinesisvideo", Credentials(AKID, SECRET))


class CountingEcho:
    """A handler that answers with the body it got, and counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.calls += 1
        reply = {"body": event["body"], "isBase64Encoded": event["isBase64Encoded"]}
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(reply)}


@pytest.fixture
def start() -> Iterator[Any]:
    """``start(gate)``: an in-process server with a counting echo handler; returns (server, handler)."""
    running: list[tuple[StillframeServer, threading.Thread]] = []

    def run(gate: RequestGate) -> tuple[StillframeServer, CountingEcho]:
        handler = CountingEcho()
        server = StillframeServer(("127.0.0.1", 0), handler, gate=gate)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        running.append((server, thread))
        return server, handler

    yield run
    for server, thread in running:
        server.stop()
        thread.join()


def connect(server: StillframeServer) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)


def post(conn: http.client.HTTPConnection, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any, Any]:
    conn.request("POST", path, body=b"{}", headers={"Content-Type": "application/json", **(headers or {})})
    response = conn.getresponse()
    return response.status, response.headers, json.loads(response.read())


def logged_statuses(caplog: pytest.LogCaptureFixture, expected: int) -> list[int]:
    """The status of every per-request log line, once ``expected`` lines are there (or after 5 s).

    The server writes its log line after the response has gone out, so the client can get there first.
    """
    deadline = time.monotonic() + 5
    while True:
        statuses = [record.__dict__["status"] for record in caplog.records if record.getMessage() == "request"]
        if len(statuses) >= expected or time.monotonic() > deadline:
            return statuses
        time.sleep(0.01)


def test_signed_chunked_request_with_spaced_header_reaches_the_handler(start: Any) -> None:
    # Given a server requiring signatures, and a PutMedia-style request signed over its whole body
    server, handler = start(RequestGate(verifier=SigV4Verifier.single(AKID, SECRET)))
    body = b"fragment-one|fragment-two"
    url = f"{server.url}/putMedia?x=1"
    unsigned = {"Content-Type": "text/plain", "X-Amzn-Stream-Name": " cam   1 "}
    headers = sign_headers(SIGNING, "POST", url, unsigned, body)

    # When it is sent with chunked transfer encoding, in two chunks
    conn = connect(server)
    conn.request("POST", "/putMedia?x=1", body=iter([body[:12], body[12:]]), headers=headers, encode_chunked=True)
    response = conn.getresponse()

    # Then the signature checks out and the handler gets the whole body
    assert response.status == 200
    assert json.loads(response.read())["body"] == body.decode()
    assert handler.calls == 1


def test_unsigned_request_is_refused_in_the_aws_error_shape(start: Any, caplog: pytest.LogCaptureFixture) -> None:
    # Given a server requiring signatures
    server, handler = start(RequestGate(verifier=SigV4Verifier.single(AKID, SECRET)))
    caplog.set_level(logging.INFO, logger="stillframe.server")

    # When an unsigned request arrives
    status, headers, body = post(connect(server), "/listStreams")

    # Then it is refused as API Gateway refuses it, without reaching the handler, and logged with its status
    assert status == 403
    assert headers["x-amzn-ErrorType"] == "NotAuthorizedException"
    assert body["__type"] == "NotAuthorizedException" and body["message"].startswith("Missing Authentication Token")
    assert handler.calls == 0
    assert logged_statuses(caplog, 1) == [403]


def test_requests_over_the_rate_are_throttled_and_the_connection_stays_usable(
    start: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a server allowing a burst of 2 and almost nothing after
    server, handler = start(RequestGate(throttle=TokenBucket(0.001, 2)))
    caplog.set_level(logging.INFO, logger="stillframe.server")

    # When 4 requests arrive on one keep-alive connection
    conn = connect(server)
    answers = [post(conn, "/listStreams") for _ in range(4)]

    # Then 2 are served and the others get 429 ClientLimitExceededException, on the same connection
    assert [status for status, _, _ in answers] == [200, 200, 429, 429]
    _, headers, body = answers[2]
    assert headers["x-amzn-ErrorType"] == "ClientLimitExceededException"
    assert body == {
        "__type": "ClientLimitExceededException",
        "message": "Too Many Requests: this server allows 0.001 requests per second, burst 2.",
    }
    assert handler.calls == 2
    assert logged_statuses(caplog, 4) == [200, 200, 429, 429]


def test_throttling_counts_unsigned_requests_too(start: Any) -> None:
    # Given a server with both checks and a burst of 1
    server, handler = start(RequestGate(verifier=SigV4Verifier.single(AKID, SECRET), throttle=TokenBucket(0.001, 1)))
    conn = connect(server)

    # When an unsigned request spends the burst / Then a signed one after it is throttled
    assert post(conn, "/listStreams")[0] == 403
    headers = sign_headers(SIGNING, "POST", f"{server.url}/listStreams", {"Content-Type": "application/json"}, b"{}")
    status, response_headers, _ = post(conn, "/listStreams", headers)
    assert (status, response_headers["x-amzn-ErrorType"]) == (429, "ClientLimitExceededException")
    assert handler.calls == 0


def test_no_gate_lets_everything_through(start: Any) -> None:
    server, handler = start(RequestGate())
    conn = connect(server)
    assert [post(conn, "/listStreams")[0] for _ in range(5)] == [200] * 5
    assert handler.calls == 5


def test_open_paths_are_fetched_unsigned_only_by_get_and_head(start: Any) -> None:
    # Given a server requiring signatures, with /health open (as serve opens it and the viewer's files)
    gate = RequestGate(verifier=SigV4Verifier.single(AKID, SECRET), open_paths=frozenset({"/health"}))
    server, handler = start(gate)
    conn = connect(server)

    # When GET and HEAD ask for it unsigned, also percent-encoded or with a query / Then they reach the handler
    for method, path in (("GET", "/health"), ("HEAD", "/health"), ("GET", "/%68ealth?x=1")):
        conn.request(method, path)
        response = conn.getresponse()
        response.read()
        assert response.status == 200, (method, path)
    # And any other method on it, or GET of any other path, still needs a signature
    assert post(conn, "/health")[0] == 403
    conn.request("GET", "/listStreams")
    response = conn.getresponse()
    assert (response.status, response.headers["x-amzn-ErrorType"]) == (403, "NotAuthorizedException")
    response.read()
    assert handler.calls == 3


def test_open_paths_are_still_throttled(start: Any) -> None:
    server, _ = start(RequestGate(throttle=TokenBucket(0.001, 1), open_paths=frozenset({"/health"})))
    conn = connect(server)
    statuses = []
    for _ in range(2):
        conn.request("GET", "/health")
        response = conn.getresponse()
        response.read()
        statuses.append(response.status)
    assert statuses == [200, 429]
