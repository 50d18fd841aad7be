"""Errors a user can act on, and serve's own small routes, against real processes.

A refused connection is reported at once with its likely cause; an unknown stream points at --create-stream; a
port in use points at --port; GET /health answers JSON and GET / the viewer, on a `serve` with the real handler.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import stillframe
from tests.support.serve import running_serve


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stillframe.cli.main", *args], capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def clip(tmp_path: Path, clip_factory) -> Path:
    path = tmp_path / "clip.mkv"
    path.write_bytes(clip_factory(seconds=2, fps=25, gop=25))
    return path


@pytest.mark.parametrize("command", ["put-media", "get-images", "timeline"])
def test_a_refused_connection_asks_whether_serve_is_running_at_once(command, closed_port, clip, tmp_path) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    args = {
        "put-media": ["put-media", "--endpoint-url", url, "--stream", "cam", str(clip)],
        "get-images": ["get-images", "--endpoint-url", url, "--stream", "cam", "--start", "0", "--end", "1",
                       "--out", str(tmp_path / "out")],
        "timeline": ["timeline", "--endpoint-url", url, "--stream", "cam"],
    }[command]  # fmt: skip
    # When a client command is pointed at a port where nothing listens
    began = time.monotonic()
    result = cli(*args)
    # Then it says so in one line, with the likely cause, without seconds of retries first
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"stillframe {command}: error: cannot connect to {url}: connection refused; "
        f"is stillframe serve running at {url}?"
    )
    assert time.monotonic() - began < 4  # the interpreter's start included; retries took ~6 s


def test_unknown_stream_on_put_media_suggests_create_stream(server, clip) -> None:
    result = cli("put-media", "--endpoint-url", server, "--stream", "never-made", str(clip))
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("stillframe put-media: error: ResourceNotFoundException: ")
    assert last.endswith("; add --create-stream to create it")


def test_port_in_use_suggests_another_port(tmp_path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("serve", "--data-dir", str(tmp_path / "data"), "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"stillframe serve: error: cannot listen on 127.0.0.1:{port}: Address already in use; "
        "another process uses it: pick another with --port (0: any free one)"
    )


def test_health_and_viewer_routes_on_serve(tmp_path) -> None:
    data_dir = tmp_path / "data"
    with running_serve("--data-dir", str(data_dir)) as (url, _):
        with urllib.request.urlopen(f"{url}/health", timeout=10) as response:
            health = json.load(response)
            assert response.headers["Content-Type"] == "application/json"
        with urllib.request.urlopen(f"{url}/", timeout=10) as response:
            page = response.read().decode()
            assert response.headers["Content-Type"].startswith("text/html")
        with urllib.request.urlopen(f"{url}/viewer/app.js", timeout=10) as response:
            script = response.read().decode()
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{url}/viewer/nothing.js", timeout=10)
    assert health == {"status": "ok", "store": str(data_dir.resolve()), "version": stillframe.__version__}
    assert "<title>Stillframe viewer</title>" in page and 'src="viewer/app.js"' in page
    assert "getImages" in script
    # An unknown path is still the API's AWS-shaped 404
    assert missing.value.code == 404
    assert missing.value.headers["x-amzn-ErrorType"] == "UnknownOperationException"
