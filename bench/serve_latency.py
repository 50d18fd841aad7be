"""``python -m bench.serve_latency``: small-request latency and burst answers of a real `stillframe serve`.

Prints p50/p99 of DescribeStream on one keep-alive connection (what boto3 does) and how many of 128 simultaneous
new connections got an answer. Not part of ``make test``; run against another checkout with ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import http.client
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import urlsplit


def start(data_dir: str) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "stillframe.cli.main", "serve", "--port", "0", "--data-dir", data_dir]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        if "listening on " in line:
            return process, line.split("listening on ", 1)[1].split()[0]
    raise SystemExit("serve did not start")


def keep_alive_latency(host: str, port: int, count: int) -> list[float]:
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.request("POST", "/createStream", body=b'{"StreamName": "bench", "DataRetentionInHours": 1}')
    conn.getresponse().read()
    times = []
    for _ in range(count):
        started = time.perf_counter()
        conn.request("POST", "/describeStream", body=b'{"StreamName": "bench"}')
        conn.getresponse().read()
        times.append((time.perf_counter() - started) * 1000)
    conn.close()
    return times


def burst(host: str, port: int, size: int) -> int:
    request = (
        b"POST /describeStream HTTP/1.1\r\nHost: localhost\r\nContent-Length: 22\r\n\r\n" + b'{"StreamName":"bench"}'
    )
    barrier = threading.Barrier(size)
    answered: list[bool] = []

    def one() -> None:
        sock = socket.socket()
        sock.settimeout(3)
        barrier.wait()
        try:
            sock.connect((host, port))
            sock.sendall(request)
            answered.append(sock.recv(1024).startswith(b"HTTP/1.1 200"))
        except OSError:
            answered.append(False)
        finally:
            sock.close()

    threads = [threading.Thread(target=one) for _ in range(size)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(answered)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as data_dir:
        process, url = start(data_dir)
        try:
            parts = urlsplit(url)
            host, port = parts.hostname or "127.0.0.1", parts.port or 80
            times = keep_alive_latency(host, port, args.requests)
            cuts = statistics.quantiles(times, n=100)
            print(f"keep-alive DescribeStream: p50 {cuts[49]:.2f} ms, p99 {cuts[98]:.2f} ms ({args.requests} requests)")
            print(f"burst: {burst(host, port, 128)} of 128 simultaneous new connections answered (3 s timeout)")
        finally:
            process.terminate()
            process.wait(timeout=20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
