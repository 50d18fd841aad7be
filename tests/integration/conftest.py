"""Integration fixtures: LocalStack S3 and one ObjectStore fixture parametrized over both adapters.

LocalStack runs on the host (``scripts/localstack.sh up``) and is found through the standard
``AWS_ENDPOINT_URL``. When it is missing or unreachable, tests that need it are skipped with
the reason, or fail if ``STILLFRAME_REQUIRE_LOCALSTACK=1`` (CI sets it, so a broken LocalStack
can never turn into a green run of skipped tests).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stillframe.storage.port import ObjectStore

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


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.localstack)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    """An empty ObjectStore: a local directory, or LocalStack S3 under a prefix unique to this test."""
    if request.param == "local":
        from stillframe.storage.local import LocalDirectoryStore

        return LocalDirectoryStore(tmp_path / "store")
    from stillframe.storage.s3 import S3Store

    client = request.getfixturevalue("localstack_s3")
    bucket = request.getfixturevalue("s3_bucket")
    return S3Store(bucket, prefix=f"test-{uuid.uuid4().hex[:8]}/", client=client)
