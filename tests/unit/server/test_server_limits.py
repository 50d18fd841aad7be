"""The server's own limits and framing over real sockets: every refusal AWS-shaped, bodies refused before buffering."""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from stillframe.server import RequestGate, ServerConfig, ServerLimits, SigV4Verifier, StillframeServer, TokenBucket
from tests.support.inprocess import in_process_servers
from tests.support.raw_http import assert_aws_shaped, exchange


def ok(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "headers": {"x-amzn-RequestId": "r"}, "body": json.dumps({"body": event["body"]})}


@pytest.fixture
def start() -> Iterator[Callable[..., StillframeServer]]:
    with in_process_servers() as run:
        yield lambda handler=ok, **kwargs: run(handler, **kwargs)


def post(body: bytes = b"{}", *extra: str) -> bytes:
    head = ["POST /describeStream HTTP/1.1", "Host: localhost", "Content-Type: application/json", *extra]
    if not any(line.lower().startswith(("content-length", "transfer-encoding")) for line in extra):
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def refused(server: StillframeServer, raw: bytes) -> tuple[int, dict[str, Any]]:
    response = exchange(server.url, raw)
    error = assert_aws_shaped(response.status, response.headers, response.body)  # type: ignore[attr-defined]
    assert error is not None
    return response.status, error


def test_a_negative_chunk_size_is_refused_not_read_to_the_end(start: Callable[..., StillframeServer]) -> None:
    server = start()
    raw = post(b"-1\r\n" + b"x" * 4096, "Transfer-Encoding: chunked")
    status, error = refused(server, raw)
    assert (status, error["__type"]) == (400, "InvalidArgumentException")
    assert "chunk size" in error["message"]


def test_a_chunked_body_over_the_cap_is_refused_as_it_arrives(start: Callable[..., StillframeServer]) -> None:
    server = start(config=ServerConfig(max_body_bytes=1000))
    chunks = b"".join(b"200\r\n" + b"x" * 512 + b"\r\n" for _ in range(3)) + b"0\r\n\r\n"
    status, _ = refused(server, post(chunks, "Transfer-Encoding: chunked"))
    assert status == 413


@pytest.mark.parametrize(
    "headers",
    [
        ("Content-Length: 2", "Content-Length: 5"),
        ("Content-Length: 2, 5",),
        ("Content-Length: 2", "Transfer-Encoding: chunked"),
        ("Transfer-Encoding: gzip, chunked",),
        ("Content-Length: -2",),
    ],
)
def test_ambiguous_body_framing_is_refused(start: Callable[..., StillframeServer], headers: tuple[str, ...]) -> None:
    status, error = refused(start(), post(b"{}", *headers))
    assert (status, error["__type"]) == (400, "InvalidArgumentException")


def test_identical_duplicate_content_lengths_are_one(start: Callable[..., StillframeServer]) -> None:
    response = exchange(start().url, post(b"{}", "Content-Length: 2", "Content-Length: 2"))
    assert response.status == 200


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"BREW /describeStream HTTP/1.1\r\nHost: localhost\r\n\r\n", 404),  # any method reaches the handler's 404
        (b"POST /" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n", 414),
        (b"POST / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"b" * 70_000 + b"\r\n\r\n", 431),
        (b"POST / HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % n for n in range(120)) + b"\r\n", 431),
        (b"GET /\r\n", 400),  # HTTP/0.9
        (b"POST / HTTP/2.0\r\nHost: localhost\r\n\r\n", 400),  # not 505: no 5xx for what a client sends
        (b"P\x00ST / HTTP/1.1\r\n\r\n", 400),
    ],
)
def test_malformed_requests_get_aws_shaped_errors(
    start: Callable[..., StillframeServer], raw: bytes, status: int
) -> None:
    def not_found(event: dict[str, Any], context: Any) -> dict[str, Any]:
        body = json.dumps({"__type": "ResourceNotFoundException", "message": "no"})
        headers = {"x-amzn-ErrorType": "ResourceNotFoundException", "x-amzn-RequestId": "r"}
        return {"statusCode": 404, "headers": headers, "body": body}

    answered, _ = refused(start(not_found), raw)
    assert answered == status


def test_no_server_banner_and_one_write_with_nodelay(start: Callable[..., StillframeServer]) -> None:
    server = start()
    with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=5) as sock:
        sock.sendall(post())
        first = sock.recv(65536)
        conns = list(server._busy)
        assert conns and all(c.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for c in conns)
    head, _, body = first.partition(b"\r\n\r\n")
    assert b"\r\nServer:" not in head and b"\r\nDate:" in head
    assert json.loads(body) == {"body": "{}"}  # headers and body arrived together


def test_a_full_queue_is_refused_with_429(start: Callable[..., StillframeServer]) -> None:
    release = threading.Event()

    def slow(event: dict[str, Any], context: Any) -> dict[str, Any]:
        release.wait(10)
        return ok(event, context)

    server = start(slow, limits=ServerLimits(max_concurrent_requests=1, max_queued_requests=1))
    answers: list[int] = []
    waiting = [threading.Thread(target=lambda: answers.append(exchange(server.url, post()).status)) for _ in range(2)]
    for thread in waiting:
        thread.start()
    deadline = time.monotonic() + 5
    while server.admission._waiting < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    status, error = refused(server, post())
    release.set()
    for thread in waiting:
        thread.join()
    assert (status, error["__type"]) == (429, "ClientLimitExceededException")
    assert answers == [200, 200]


def test_connections_past_the_cap_are_answered_with_429(start: Callable[..., StillframeServer]) -> None:
    server = start(limits=ServerLimits(max_connections=2))
    port = server.server_address[1]
    held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(2)]
    try:
        time.sleep(0.2)  # both accepted
        status, error = refused(server, post())
        assert (status, error["__type"]) == (429, "ClientLimitExceededException")
    finally:
        for sock in held:
            sock.close()


def test_a_trickling_client_is_cut_off_at_the_header_timeout(start: Callable[..., StillframeServer]) -> None:
    server = start(limits=ServerLimits(header_timeout_s=0.5))
    with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=5) as sock:
        sock.sendall(b"POST /describeStream HTTP/1.1\r\n")
        for n in range(50):  # a header line every 0.1 s: each read is quick, the whole would take 5 s
            if select.select([sock], [], [], 0.1)[0]:
                break  # the server closed the connection
            try:
                sock.sendall(b"X-Slow-%d: 1\r\n" % n)
            except OSError:
                break  # already reset by the server
        else:
            pytest.fail("the server kept reading headers past its header timeout")
        try:
            tail = sock.recv(1024)
        except ConnectionResetError:
            tail = b""
        assert tail == b""


@pytest.mark.parametrize(
    "gate",
    [
        RequestGate(throttle=TokenBucket(0.001, 1)),
        RequestGate(verifier=SigV4Verifier.single("AKID", "secret")),
    ],
    ids=["throttled", "unsigned"],
)
def test_refusals_come_before_the_body_is_read(start: Callable[..., StillframeServer], gate: RequestGate) -> None:
    server = start(gate=gate)
    if gate.throttle is not None:
        gate.throttle.take()  # the one token is gone
    with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=5) as sock:
        # A 50 MB body is announced but never sent: the answer cannot have waited for it.
        sock.sendall(b"POST /describeStream HTTP/1.1\r\nHost: localhost\r\nContent-Length: 50000000\r\n\r\n")
        answer = sock.recv(65536)
    assert answer.split(b" ", 2)[1] in (b"429", b"403")
    assert b"Connection: close" in answer
