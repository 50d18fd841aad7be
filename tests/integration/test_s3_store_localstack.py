"""S3 adapter behaviour that only S3 has: paging through ListObjectsV2 and the bucket prefix."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from stillframe.errors import StorageError
from stillframe.storage.s3 import S3Store

pytestmark = pytest.mark.localstack


@pytest.fixture
def prefix() -> str:
    return f"paging-{uuid.uuid4().hex[:8]}"


def test_listing_pages_through_small_pages(localstack_s3: Any, s3_bucket: str, prefix: str) -> None:
    # Given 7 keys and a store that asks S3 for 2 keys per page
    store = S3Store(s3_bucket, prefix=prefix, client=localstack_s3, page_size=2)
    names = [f"idx/{ms:013d}" for ms in range(0, 7000, 1000)]
    for name in names:
        store.put(name, b"")
    # When listings cross page boundaries, with and without start_after and limit
    # Then every key comes once, in order, and limits stop mid-page
    assert [i.key for i in store.list("idx/")] == names
    assert [i.key for i in store.list("idx/", start_after=names[2])] == names[3:]
    assert [i.key for i in store.list("idx/", start_after=names[0], limit=5)] == names[1:6]
    assert [i.key for i in store.list("idx/", limit=3)] == names[:3]


def test_prefix_isolates_stores_in_one_bucket(localstack_s3: Any, s3_bucket: str, prefix: str) -> None:
    # Given two stores in one bucket, one of them given a prefix without its trailing "/"
    mine = S3Store(s3_bucket, prefix=prefix, client=localstack_s3)
    other = S3Store(s3_bucket, prefix=prefix + "-other/", client=localstack_s3)
    mine.put("streams/cam/stream.json", b"mine")
    other.put("streams/cam/stream.json", b"other")
    # When each lists and reads
    # Then each sees only its own objects, with keys relative to its prefix
    assert [i.key for i in mine.list("")] == ["streams/cam/stream.json"]
    assert mine.get("streams/cam/stream.json") == b"mine"
    assert other.get("streams/cam/stream.json") == b"other"
    raw = localstack_s3.get_object(Bucket=s3_bucket, Key=f"{prefix}/streams/cam/stream.json")["Body"].read()
    assert raw == b"mine"


def test_a_missing_bucket_is_a_storage_error(localstack_s3: Any) -> None:
    # Given a store pointing at a bucket that does not exist
    store = S3Store(f"stillframe-missing-{uuid.uuid4().hex[:8]}", client=localstack_s3)
    # When it is used
    # Then a StorageError (not ObjectNotFound) says so, with the S3 error chained
    with pytest.raises(StorageError, match="NoSuchBucket") as caught:
        store.get("k")
    assert caught.type is StorageError
    assert caught.value.__cause__ is not None
