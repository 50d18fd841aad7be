"""Shared fixtures: generated media, the handler over a fresh local store, a real `stillframe serve`."""

from __future__ import annotations

import base64
import copy
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVENTS = Path(__file__).parent / "events"
# A fixed epoch (2026-11-26T10:00:00Z) so producer timestamps in tests are readable.
T0 = 1_795_600_800


@pytest.fixture(scope="session")
def clip_factory() -> Callable[..., bytes]:
    """make_clip with a cache: identical requests within a session reuse the bytes."""
    from stillframe.media.synth import make_clip

    cache: dict[tuple[tuple[str, Any], ...], bytes] = {}

    def make(**kwargs: Any) -> bytes:
        key = tuple(sorted(kwargs.items()))
        if key not in cache:
            cache[key] = make_clip(**kwargs)
        return cache[key]

    return make


def rest_event(path: str, body: dict[str, Any] | bytes | None = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """An API Gateway REST proxy event exactly as the gateway sends it (stage path, binary bodies base64)."""
    event = copy.deepcopy(json.loads((EVENTS / "rest_api_event.json").read_text()))
    event["path"] = path
    event["pathParameters"] = {"proxy": path.lstrip("/")}
    event["requestContext"]["path"] = "/prod" + path
    if isinstance(body, bytes):
        event["body"] = base64.b64encode(body).decode()
        event["isBase64Encoded"] = True
        event["headers"]["Content-Type"] = "application/octet-stream"
    else:
        event["body"] = json.dumps(body or {}, default=_timestamp)
    event["headers"].update(headers or {})
    return event


def _timestamp(value: Any) -> Any:
    raise TypeError(f"not JSON: {value!r}")


class FakeContext:
    """The LambdaContext attributes Powertools reads, with a real remaining-time clock."""

    function_name = "stillframe-test"
    memory_limit_in_mb = 3008
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:stillframe-test"
    aws_request_id = "test-request"

    def __init__(self, budget_ms: int = 60_000) -> None:
        self._deadline = time.monotonic() + budget_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


@pytest.fixture
def invoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., dict[str, Any]]]:
    """Call the real lambda_handler over a fresh local store; returns (status, headers, decoded body)."""
    monkeypatch.setenv("STILLFRAME_STORE", "local")
    monkeypatch.setenv("STILLFRAME_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STILLFRAME_TOKEN_SECRET", "test-secret")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    from stillframe.api.handler import lambda_handler
    from stillframe.wiring import services

    services.cache_clear()

    def call(path: str, body: dict[str, Any] | bytes | None = None, **kwargs: Any) -> dict[str, Any]:
        response = lambda_handler(rest_event(path, body, kwargs.get("headers")), FakeContext())
        text = response["body"]
        if response.get("isBase64Encoded"):
            text = base64.b64decode(text).decode()
        parsed: Any
        try:
            parsed = json.loads(text) if text else None
        except json.JSONDecodeError:
            parsed = text
        headers = dict(response.get("headers") or {})
        headers.update({name: values[-1] for name, values in (response.get("multiValueHeaders") or {}).items()})
        return {"status": response["statusCode"], "headers": headers, "body": parsed}

    yield call
    services.cache_clear()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `stillframe serve` process on a free loopback port; yields its base URL."""
    data_dir = tmp_path_factory.mktemp("serve-data")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "STILLFRAME_TIME_BUDGET_MS": "20000"}
    process = subprocess.Popen(
        [sys.executable, "-m", "stillframe.cli.main", "serve", "--data-dir", str(data_dir), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    url = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and url is None:
        line = process.stdout.readline()
        if not line:
            break
        if "listening on " in line:
            url = line.split("listening on ", 1)[1].split()[0]
    if url is None:
        process.kill()
        pytest.fail("stillframe serve did not start")
    yield url
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=20)
