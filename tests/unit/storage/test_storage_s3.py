"""The S3 adapter's requests and error mapping, against botocore's Stubber (no network)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from stillframe.errors import ObjectExists, ObjectNotFound, StorageError
from stillframe.resources import s3_client
from stillframe.storage.port import ObjectInfo
from stillframe.storage.s3 import S3Store


@pytest.fixture(scope="module")
def client() -> Any:
    # One client for the module (creating one costs ~0.3 s); each test stubs it afresh.
    return boto3.session.Session().client(
        "s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


@pytest.fixture
def stub(client: Any) -> Iterator[Stubber]:
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def store_for(client: Any, prefix: str = "pre/", page_size: int = 1000) -> S3Store:
    return S3Store("bkt", prefix=prefix, client=client, page_size=page_size)


def test_keys_live_under_the_prefix_with_a_slash_added(client: Any, stub: Stubber) -> None:
    # Given a store whose prefix lacks its trailing slash
    store = store_for(client, prefix="tenant-a")
    stub.add_response("put_object", {}, {"Bucket": "bkt", "Key": "tenant-a/streams/x.json", "Body": b"{}"})
    # When an object is written
    store.put("streams/x.json", b"{}")
    # Then it lands under "tenant-a/"
    assert store.prefix == "tenant-a/"


def test_create_is_a_conditional_put(client: Any, stub: Stubber) -> None:
    # Given a key another writer already created
    store = store_for(client)
    expected = {"Bucket": "bkt", "Key": "pre/k", "Body": ANY, "IfNoneMatch": "*"}
    stub.add_response("put_object", {}, expected)
    stub.add_client_error("put_object", "PreconditionFailed", http_status_code=412, expected_params=expected)
    # When create runs twice
    store.create("k", b"1")
    # Then the second is ObjectExists, with S3's error chained
    with pytest.raises(ObjectExists) as caught:
        store.create("k", b"2")
    assert isinstance(caught.value.__cause__, ClientError)


def test_create_retries_a_conditional_conflict(client: Any, stub: Stubber) -> None:
    # Given S3 answers 409 ConditionalRequestConflict once (another conditional write in flight)
    store = store_for(client)
    stub.add_client_error("put_object", "ConditionalRequestConflict", http_status_code=409)
    stub.add_response("put_object", {})
    # When create runs
    store.create("k", b"1")
    # Then it retried and succeeded (the stub saw both calls)


def test_missing_keys_are_object_not_found(client: Any, stub: Stubber) -> None:
    # Given S3 answers NoSuchKey to GET and a bare 404 to HEAD
    store = store_for(client)
    stub.add_client_error("get_object", "NoSuchKey", http_status_code=404)
    stub.add_client_error("head_object", "404", http_status_code=404)
    # When the key is read and sized
    # Then both raise ObjectNotFound
    with pytest.raises(ObjectNotFound):
        store.get("gone")
    with pytest.raises(ObjectNotFound):
        store.head("gone")


def test_other_s3_errors_are_storage_errors(client: Any, stub: Stubber) -> None:
    # Given S3 denies access
    store = store_for(client)
    stub.add_client_error("get_object", "AccessDenied", http_status_code=403)
    # When the key is read
    # Then a StorageError names the S3 error, with the cause chained
    with pytest.raises(StorageError, match="AccessDenied") as caught:
        store.get("k")
    assert caught.type is StorageError
    assert isinstance(caught.value.__cause__, ClientError)


def test_get_range_sends_an_inclusive_range_header(client: Any, stub: Stubber) -> None:
    # Given an object
    store = store_for(client)
    body = _streaming(b"2345")
    stub.add_response("get_object", {"Body": body}, {"Bucket": "bkt", "Key": "pre/r", "Range": "bytes=2-5"})
    # When bytes 2..5 are read
    # Then S3 was asked for exactly that range
    assert store.get_range("r", 2, 5) == b"2345"


def test_get_range_past_the_end_is_empty_but_a_missing_key_is_not(client: Any, stub: Stubber) -> None:
    # Given S3 answers 416 for a range past the end, then a HEAD confirms the object exists (or not)
    store = store_for(client)
    stub.add_client_error("get_object", "InvalidRange", http_status_code=416)
    stub.add_response("head_object", {"ContentLength": 3})
    stub.add_client_error("get_object", "InvalidRange", http_status_code=416)
    stub.add_client_error("head_object", "404", http_status_code=404)
    # When such ranges are read
    # Then an existing object reads as empty, a missing one raises ObjectNotFound
    assert store.get_range("r", 10, 20) == b""
    with pytest.raises(ObjectNotFound):
        store.get_range("gone", 10, 20)


def test_head_reports_the_size(client: Any, stub: Stubber) -> None:
    # Given an object of 42 bytes
    store = store_for(client)
    stub.add_response("head_object", {"ContentLength": 42}, {"Bucket": "bkt", "Key": "pre/k"})
    # When it is sized
    # Then the key (without the prefix) and size come back
    assert store.head("k") == ObjectInfo("k", 42)


def test_list_pages_with_start_after_and_strips_the_prefix(client: Any, stub: Stubber) -> None:
    # Given two pages of results
    store = store_for(client, page_size=2)
    first = {"Bucket": "bkt", "Prefix": "pre/idx/", "StartAfter": "pre/idx/1", "MaxKeys": 2}
    stub.add_response("list_objects_v2", _page(["pre/idx/2", "pre/idx/3"], token="t1"), first)
    stub.add_response("list_objects_v2", _page(["pre/idx/4"]), {**first, "ContinuationToken": "t1"})
    # When everything after "idx/1" is listed
    found = list(store.list("idx/", start_after="idx/1"))
    # Then keys come back relative to the prefix, across pages
    assert found == [ObjectInfo("idx/2", 2), ObjectInfo("idx/3", 2), ObjectInfo("idx/4", 2)]


def test_a_small_limit_asks_for_a_small_page_and_stops(client: Any, stub: Stubber) -> None:
    # Given a bucket with more keys than wanted
    store = store_for(client)
    request = {"Bucket": "bkt", "Prefix": "pre/", "MaxKeys": 2}
    stub.add_response("list_objects_v2", _page(["pre/a", "pre/b"], token="more"), request)
    # When two keys are wanted
    found = [i.key for i in store.list("", limit=2)]
    # Then one request of MaxKeys=2 was enough (no second page fetched)
    assert found == ["a", "b"]


def test_limit_zero_sends_no_request(client: Any, stub: Stubber) -> None:
    # Given a store (and no stubbed responses: any request would fail the test)
    store = store_for(client)
    # When nothing is wanted
    # Then nothing is listed
    assert list(store.list("", limit=0)) == []


def test_the_default_client_is_created_once_per_endpoint() -> None:
    # Given the process-wide client cache
    # When clients are asked for twice per endpoint
    # Then the same endpoint gets the same client, another endpoint another one
    local = s3_client("http://127.0.0.1:1", "us-east-1")
    assert s3_client("http://127.0.0.1:1", "us-east-1") is local
    assert s3_client("http://127.0.0.1:2", "us-east-1") is not local


def test_invalid_keys_are_refused_before_any_request(client: Any, stub: Stubber) -> None:
    # Given a store (no stubbed responses)
    store = store_for(client)
    # When a key with an empty segment is written
    # Then ValueError, as in the local adapter
    with pytest.raises(ValueError, match="empty segment"):
        store.put("a//b", b"x")


def _page(keys: list[str], token: str | None = None) -> dict[str, Any]:
    page: dict[str, Any] = {"Contents": [{"Key": k, "Size": 2} for k in keys], "IsTruncated": token is not None}
    if token:
        page["NextContinuationToken"] = token
    return page


def _streaming(data: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(data), len(data))
