"""A real `stillframe serve` under a burst of connections and hostile input, and its keep-alive latency."""

from __future__ import annotations

import http.client
import json
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.raw_http import address, assert_aws_shaped
from tests.support.serve import running_serve


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_serve("--data-dir", str(tmp_path_factory.mktemp("serve-hardening"))) as (base, _):
        yield base


def call(url: str, path: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    conn = http.client.HTTPConnection(*address(url), timeout=30)
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    assert_aws_shaped(response.status, response.headers, payload)
    return response.status, json.loads(payload) if payload else None


def test_a_burst_of_128_new_connections_is_answered(url: str) -> None:
    call(url, "/createStream", b'{"StreamName": "burst", "DataRetentionInHours": 1}')
    head = b"POST /describeStream HTTP/1.1\r\nHost: localhost\r\nContent-Length: 22\r\n\r\n"
    request = head + b'{"StreamName":"burst"}'
    socks = [socket.socket() for _ in range(128)]
    barrier = threading.Barrier(len(socks))
    answers: list[bytes] = []

    def one(sock: socket.socket) -> None:
        sock.settimeout(30)
        barrier.wait()
        sock.connect(address(url))
        sock.sendall(request)
        answers.append(sock.recv(65536))
        sock.close()

    threads = [threading.Thread(target=one, args=(sock,)) for sock in socks]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(f"\n128 simultaneous connections: {len(answers)} answered in {time.perf_counter() - started:.2f} s")
    assert len(answers) == 128 and all(answer.startswith(b"HTTP/1.1 200 ") for answer in answers)


def test_small_answers_on_a_keep_alive_connection_are_quick(url: str) -> None:
    call(url, "/createStream", b'{"StreamName": "latency", "DataRetentionInHours": 1}')
    conn = http.client.HTTPConnection(*address(url), timeout=30)
    times = []
    for _ in range(200):
        started = time.perf_counter()
        conn.request("POST", "/describeStream", body=b'{"StreamName": "latency"}')
        response = conn.getresponse()
        response.read()
        times.append((time.perf_counter() - started) * 1000)
        assert response.status == 200 and not response.will_close
    conn.close()
    cuts = statistics.quantiles(times, n=100)
    print(f"\nkeep-alive DescribeStream: p50 {cuts[49]:.2f} ms, p99 {cuts[98]:.2f} ms over 200 requests")


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"StreamName": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"MaxResults": 1' + b"0" * 5000 + b"}",
    ],
    ids=["nested-array", "nested-member", "huge-integer"],
)
def test_pathological_json_is_a_400(url: str, body: bytes) -> None:
    status, error = call(url, "/listStreams", body)
    assert (status, error["__type"]) == (400, "InvalidArgumentException")


@pytest.mark.parametrize("length", [250, 251, 255, 256])
def test_long_stream_names_valid_per_the_model_are_never_a_500(url: str, length: int) -> None:
    name = "n" * length
    created, answer = call(url, "/createStream", json.dumps({"StreamName": name, "DataRetentionInHours": 1}).encode())
    described, _ = call(url, "/describeStream", json.dumps({"StreamName": name}).encode())
    # The local store keeps over-long path segments in pieces (docs/storage-layout.md), so every length works.
    assert (created, described) == (200, 200), answer


def test_get_data_endpoint_ignores_the_clients_host_and_proto(url: str) -> None:
    call(url, "/createStream", b'{"StreamName": "endpoint", "DataRetentionInHours": 1}')
    # (a Host the server answers to, but not the one it listens on: a foreign name is refused, test_serve_browsers)
    hostile = {"Host": "localhost:1", "X-Forwarded-Proto": "javascript"}
    status, answer = call(url, "/getDataEndpoint", b'{"StreamName": "endpoint", "APIName": "GET_IMAGES"}', hostile)
    assert (status, answer["DataEndpoint"]) == (200, url)


def test_a_next_token_dies_with_its_stream(url: str) -> None:
    create = b'{"StreamName": "reborn", "DataRetentionInHours": 1}'
    call(url, "/createStream", create)
    query = {
        "StreamName": "reborn",
        "ImageSelectorType": "SERVER_TIMESTAMP",
        "StartTimestamp": 1_795_600_800,
        "EndTimestamp": 1_795_600_860,
        "SamplingInterval": 1000,
        "Format": "JPEG",
        "MaxResults": 2,
    }
    status, page = call(url, "/getImages", json.dumps(query).encode())
    token = page["NextToken"]
    assert call(url, "/getImages", json.dumps({**query, "NextToken": token}).encode())[0] == 200
    _, info = call(url, "/describeStream", b'{"StreamName": "reborn"}')
    delete = {"StreamARN": info["StreamInfo"]["StreamARN"]}
    call(url, "/deleteStream", json.dumps(delete).encode())
    for _ in range(50):  # deletion completes in the background
        if call(url, "/createStream", create)[0] == 200:
            break
        time.sleep(0.1)
    status, error = call(url, "/getImages", json.dumps({**query, "NextToken": token}).encode())
    assert (status, error["__type"]) == (400, "InvalidArgumentException")
