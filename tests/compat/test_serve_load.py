"""32 clients asking a real `stillframe serve` for full-size GetImages pages at once: every one answered.

The figures (latency, the server's peak and settled RSS) are printed, not asserted: they depend on the machine.
"""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import T0
from tests.support.raw_http import address
from tests.support.serve import serve_process

CLIENTS = 32
RUN_S = 3.0
PAGE = {
    "StreamName": "load",
    "ImageSelectorType": "PRODUCER_TIMESTAMP",
    "StartTimestamp": T0,
    "EndTimestamp": T0 + 4.8,
    "SamplingInterval": 200,  # 25 samples: a full page, at the source size
    "Format": "JPEG",
    "MaxResults": 25,
}


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of ``pid`` in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def client_loop(url: str, until: float, times: list[float], failures: list[str]) -> None:
    conn = http.client.HTTPConnection(*address(url), timeout=60)
    body = json.dumps(PAGE).encode()
    while time.monotonic() < until:
        started = time.perf_counter()
        conn.request("POST", "/getImages", body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        payload = response.read()
        times.append(time.perf_counter() - started)
        images = json.loads(payload).get("Images", []) if response.status == 200 else []
        if response.status != 200 or len(images) != 25 or not all("ImageContent" in image for image in images):
            failures.append(f"{response.status} {payload[:200]!r}")
    conn.close()


def test_thirty_two_clients_of_full_pages_all_get_their_images(
    tmp_path: Path, clip_factory: Callable[..., bytes]
) -> None:
    clip = clip_factory(seconds=5, fps=25, gop=25)
    with serve_process("--data-dir", str(tmp_path / "data")) as (url, _, process):
        conn = http.client.HTTPConnection(*address(url), timeout=60)
        conn.request("POST", "/createStream", body=b'{"StreamName": "load", "DataRetentionInHours": 24}')
        conn.getresponse().read()
        headers = {"x-amzn-stream-name": "load", "x-amzn-producer-start-timestamp": str(T0)}
        conn.request("POST", "/putMedia", body=clip, headers=headers)
        assert conn.getresponse().read().count(b"PERSISTED") >= 1
        conn.close()
        idle_mb, _ = rss_mb(process.pid)
        times: list[float] = []
        failures: list[str] = []
        until = time.monotonic() + RUN_S
        threads = [threading.Thread(target=client_loop, args=(url, until, times, failures)) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        time.sleep(1.5)  # the server hands freed memory back once it has been idle a second
        settled_mb, peak_mb = rss_mb(process.pid)
    cuts = statistics.quantiles(times, n=100)
    print(
        f"\n{CLIENTS} clients, {len(times)} full pages in {RUN_S:.0f} s: p50 {cuts[49]:.2f} s, p99 {cuts[98]:.2f} s; "
        f"RSS idle {idle_mb:.0f} MB, peak {peak_mb:.0f} MB, after {settled_mb:.0f} MB"
    )
    assert failures == []
    assert len(times) >= CLIENTS
