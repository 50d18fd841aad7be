"""Run a real `stillframe serve` process for a test and stop it cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def running_serve(
    *args: str, env: dict[str, str] | None = None, log: Path | None = None
) -> Iterator[tuple[str, list[str]]]:
    """`stillframe serve --port 0 ARGS...`; yields (base URL, banner lines) and sends SIGTERM afterwards.

    ``log``: a file for the server's stderr log (else it is dropped).
    """
    with serve_process(*args, env=env, log=log) as (url, banner, _):
        yield url, banner


def free_port() -> int:
    """A loopback port free right now: for a serve that must come back on the same URL after a restart."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve_process(
    *args: str, env: dict[str, str] | None = None, log: Path | None = None, port: int = 0
) -> Iterator[tuple[str, list[str], subprocess.Popen[str]]]:
    """As ``running_serve``, also yielding the process (its pid for memory figures, or to kill it).

    ``port``: listen there instead of on a port the system picks. A process the test killed is only reaped.
    """
    command = [sys.executable, "-m", "stillframe.cli.main", "serve", "--port", str(port), *args]
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    log_file = log.open("w") if log is not None else None
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=log_file or subprocess.DEVNULL, text=True, env=environment
    )
    if log_file is not None:
        log_file.close()  # the child holds its own copy
    assert process.stdout is not None
    banner: list[str] = []
    deadline = time.monotonic() + 30
    while not banner or "listening on " not in banner[-1]:
        line = process.stdout.readline()
        if not line or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"stillframe serve did not start: {banner}")
        banner.append(line.strip())
    try:
        yield banner[-1].split("listening on ", 1)[1].split()[0], banner, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


def put_media_cli(endpoint: str, stream: str, source: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run `stillframe put-media --create-stream` for ``source``; raises if it exits non-zero."""
    command = [sys.executable, "-m", "stillframe.cli.main", "put-media", "--endpoint-url", endpoint]
    command += ["--stream", stream, "--create-stream", *extra, source]
    return subprocess.run(command, capture_output=True, text=True, check=True)
