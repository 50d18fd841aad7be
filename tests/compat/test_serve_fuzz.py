"""Every operation of the KVS service models, fuzzed against a real `stillframe serve`: never a 5xx, always AWS-shaped.

One server process and one keep-alive connection (reopened only when the server closes it, as it does after a
malformed request), so 2,000 requests stay quick; the ``slow`` run sends ten times as many with other seeds.
"""

from __future__ import annotations

import http.client
import json
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from tests.support.model_fuzz import KNOWN_STREAMS, FuzzRequest, ModelFuzzer
from tests.support.raw_http import address, assert_aws_shaped
from tests.support.serve import running_serve


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("serve-fuzz")
    with running_serve("--data-dir", str(data_dir)) as (base, _):
        yield base


class KeepAliveClient:
    """One connection reused for every request; a new one whenever the server closed the last."""

    def __init__(self, url: str) -> None:
        self.host, self.port = address(url)
        self.conn: http.client.HTTPConnection | None = None
        self.connections = 0

    def send(self, request: FuzzRequest) -> tuple[int, http.client.HTTPMessage, bytes]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            self.connections += 1
        headers = {"Content-Type": "application/json", **request.headers}
        self.conn.request("POST", request.path, body=request.body, headers=headers)
        response = self.conn.getresponse()
        payload = response.read()
        if response.will_close:
            self.conn.close()
            self.conn = None
        return response.status, response.headers, payload


def fuzz(url: str, seed: int, count: int) -> None:
    client = KeepAliveClient(url)
    for name in KNOWN_STREAMS:
        body = json.dumps({"StreamName": name, "DataRetentionInHours": 1}).encode()
        client.send(FuzzRequest("CreateStream", "/createStream", body))
    statuses: Counter[str] = Counter()
    started = time.perf_counter()
    for request in ModelFuzzer(seed).requests(count):
        status, headers, payload = client.send(request)
        try:
            error = assert_aws_shaped(status, headers, payload)
        except AssertionError as exc:
            raise AssertionError(f"{request.operation} {request.body[:300]!r} {request.headers}") from exc
        statuses[f"{status} {error['__type'] if error else 'ok'}"] += 1
    elapsed = time.perf_counter() - started
    print(f"\nfuzz seed {seed}: {count} requests in {elapsed:.1f} s over {client.connections} connections")
    print("  " + ", ".join(f"{key}: {n}" for key, n in statuses.most_common()))
    assert sum(n for key, n in statuses.items() if key.startswith("200")) > 0  # some requests were valid enough


def test_two_thousand_model_requests_never_get_a_5xx(url: str) -> None:
    fuzz(url, seed=1, count=2000)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(2, 12))
def test_many_more_model_requests_never_get_a_5xx(url: str, seed: int) -> None:
    fuzz(url, seed=seed, count=2000)


def test_the_fuzzer_covers_every_modeled_operation_and_put_media() -> None:
    fuzzer = ModelFuzzer(0)
    seen = {request.operation for request in fuzzer.requests(len(fuzzer.operations) + 1)}
    assert {"GetImages", "ListFragments", "CreateStream", "GetMedia", "PutMedia"} <= seen
    assert len(seen) == len(fuzzer.operations) + 1 == 40
