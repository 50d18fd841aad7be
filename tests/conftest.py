"""Shared fixtures: generated media, the handler over a fresh local store, a real `stillframe serve`."""

from __future__ import annotations

import base64
import copy
import json
import os
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from stillframe.wiring import Services

ROOT = Path(__file__).resolve().parent.parent
EVENTS = Path(__file__).parent / "events"
# A fixed epoch (2026-11-25T10:00:00Z) so producer timestamps in tests are readable.
T0 = 1_795_600_800


@pytest.fixture(scope="session")
def clip_factory() -> Callable[..., bytes]:
    """make_clip with a cache: identical requests within a session reuse the bytes."""
    from tests.support.synth import make_clip

    cache: dict[tuple[tuple[str, Any], ...], bytes] = {}

    def make(**kwargs: Any) -> bytes:
        key = tuple(sorted(kwargs.items()))
        if key not in cache:
            cache[key] = make_clip(**kwargs)
        return cache[key]

    return make


def rest_event(
    path: str, body: dict[str, Any] | bytes | None = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
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


class Invoker:
    """Calls the real lambda_handler with one set of services; ``services`` is that store, catalog and index."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def __call__(self, path: str, body: dict[str, Any] | bytes | None = None, **kwargs: Any) -> dict[str, Any]:
        from stillframe.handlers.api import lambda_handler

        event = rest_event(path, body, kwargs.get("headers"))
        return decoded(lambda_handler(event, FakeContext(), svc=self.services))


def decoded(response: dict[str, Any]) -> dict[str, Any]:
    """A proxy response as {"status", "headers" (multi-value ones folded), "body" (JSON-decoded when it is JSON)}."""
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


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.localstack)])
def invoke(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoker:
    """The real lambda_handler over a fresh store (a local directory, or LocalStack S3 under a fresh prefix).

    The services are built from ``Settings`` here (``invoke.services``), not from the environment.
    """
    from stillframe.settings import Settings
    from stillframe.wiring import build

    if request.param == "local":
        settings = Settings(store="local", data_dir=str(tmp_path / "data"), token_secret="test-secret")
    else:
        settings = Settings(
            store="s3",
            bucket=request.getfixturevalue("s3_bucket"),
            prefix=f"test-{uuid.uuid4().hex[:8]}/",
            token_secret="test-secret",
        )
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    return Invoker(build(settings))


# Tests use AWS_ENDPOINT_URL=http://127.0.0.1:4566 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
# AWS_DEFAULT_REGION=us-east-1 (missing credentials default to "test").
START_HINT = "run `scripts/localstack.sh up` and set AWS_ENDPOINT_URL=http://127.0.0.1:4566"


def _localstack_problem(endpoint: str | None) -> str | None:
    """Why LocalStack's S3 cannot be used, or None when it can."""
    if not endpoint:
        return f"AWS_ENDPOINT_URL is not set; {START_HINT}"
    url = endpoint.rstrip("/") + "/_localstack/health"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            health = json.load(response)
    except (OSError, ValueError) as exc:
        return f"LocalStack is not reachable at {url} ({exc}); {START_HINT}"
    state = health.get("services", {}).get("s3")
    if state not in ("available", "running"):
        return f"LocalStack at {endpoint} reports S3 as {state!r}, not available; {START_HINT}"
    return None


@pytest.fixture(scope="session")
def localstack_s3() -> Any:
    """A boto3 S3 client for LocalStack; skips (or fails under STILLFRAME_REQUIRE_LOCALSTACK=1) without it."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    problem = _localstack_problem(endpoint)
    if problem:
        if os.environ.get("STILLFRAME_REQUIRE_LOCALSTACK") == "1":
            pytest.fail(f"STILLFRAME_REQUIRE_LOCALSTACK=1 but {problem}", pytrace=False)
        pytest.skip(problem)
    import boto3  # only S3 tests pay for importing boto3

    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
    )


@pytest.fixture(scope="session")
def s3_bucket(localstack_s3: Any) -> Iterator[str]:
    """A fresh LocalStack bucket for this test session, emptied and deleted afterwards."""
    bucket = f"stillframe-test-{uuid.uuid4().hex[:12]}"
    localstack_s3.create_bucket(Bucket=bucket)
    yield bucket
    paginator = localstack_s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket):
        objects = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if objects:
            localstack_s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
    localstack_s3.delete_bucket(Bucket=bucket)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `stillframe serve` process on a free loopback port; yields its base URL."""
    from tests.support.serve import running_serve

    data_dir = tmp_path_factory.mktemp("serve-data")
    with running_serve("--data-dir", str(data_dir), env={"STILLFRAME_TIME_BUDGET_MS": "20000"}) as (url, _):
        yield url
