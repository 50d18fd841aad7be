"""Integration fixtures: one ObjectStore fixture parametrized over both adapters.

The LocalStack fixtures (``localstack_s3``, ``s3_bucket``) live in ``tests/conftest.py``.

LocalStack runs on the host (``scripts/localstack.sh up``) and is found through the standard
``AWS_ENDPOINT_URL``. When it is missing or unreachable, tests that need it are skipped with
the reason, or fail if ``STILLFRAME_REQUIRE_LOCALSTACK=1`` (CI sets it, so a broken LocalStack
can never turn into a green run of skipped tests).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from stillframe.storage.port import ObjectStore


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
