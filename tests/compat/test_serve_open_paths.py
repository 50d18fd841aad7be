"""With auth on, a real serve still answers GET /health and the viewer's files unsigned; its API stays signed-only."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.support.serve import running_serve


def fetch(url: str, method: str, path: str, body: bytes | None = None) -> tuple[int, str, bytes, str]:
    """(status, Content-Type, body, x-amzn-ErrorType) of one unsigned request."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    conn.request(method, path, body=body, headers={"Content-Type": "application/json"} if body is not None else {})
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, response.headers["Content-Type"], payload, response.headers["x-amzn-ErrorType"] or ""


@pytest.fixture(scope="module", params=["access-key", "keys-file"])
def guarded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A serve requiring signatures, and the status it refuses unsigned API calls with."""
    work = tmp_path_factory.mktemp("open-paths")
    if request.param == "access-key":
        (work / "secret").write_text("open-paths-secret\n")
        args = ["--access-key-id", "AKIDOPEN", "--secret-access-key-file", str(work / "secret")]
        refused = 403
    else:
        keys = work / "keys.json"
        command = [sys.executable, "-m", "stillframe.cli.main", "keys", "create", "--keys-file", str(keys)]
        subprocess.run(command, capture_output=True, check=True, timeout=60)
        args, refused = ["--keys-file", str(keys)], 401
    with running_serve("--data-dir", str(work / "data"), *args) as (url, _):
        yield url, refused


def test_health_and_the_viewer_are_served_unsigned(guarded: tuple[str, int]) -> None:
    url, _ = guarded
    status, content_type, body, _ = fetch(url, "GET", "/health")
    assert (status, content_type, json.loads(body)["status"]) == (200, "application/json", "ok")
    status, content_type, body, _ = fetch(url, "GET", "/")
    assert (status, content_type) == (200, "text/html; charset=utf-8") and b"<html" in body.lower()
    for path in ("/viewer/app.js", "/viewer/style.css"):
        assert fetch(url, "GET", path)[0] == 200, path
        assert fetch(url, "HEAD", path)[0] == 200, path


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("POST", "/listStreams", b"{}"), ("GET", "/listStreams", None), ("POST", "/health", b"{}")],
)
def test_the_api_stays_signed_only(guarded: tuple[str, int], method: str, path: str, body: bytes | None) -> None:
    url, refused = guarded
    status, _, _, error_type = fetch(url, method, path, body)
    assert (status, error_type) == (refused, "NotAuthorizedException")
