"""ObjectStore over an S3 bucket (AWS, or LocalStack through the standard ``AWS_ENDPOINT_URL``).

Keys are stored as ``prefix + key``; listings strip the prefix again. A non-empty prefix
always ends with "/" ("stillframe" and "stillframe/" mean the same place).

Mapping of the port onto S3: create-if-absent is a conditional PUT (``If-None-Match: *``,
412 -> ``ObjectExists``), replace-if-unchanged one with ``If-Match: <ETag>`` (412 or 404 ->
``ObjectChanged``); ranged reads send ``Range: bytes=a-b`` (416 -> empty, as the local adapter
answers past the end); a listing is ListObjectsV2 with ``StartAfter``, paginated lazily. Missing
keys raise ``ObjectNotFound``; any other S3 or transport failure raises
``StorageError`` with the boto error chained.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from stillframe import resources
from stillframe.errors import ObjectChanged, ObjectExists, ObjectNotFound, StorageError
from stillframe.storage.key_rules import validate_key
from stillframe.storage.port import ObjectInfo

_NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_MAX_KEYS = 1000  # S3's largest page
_CONFLICT_RETRIES = 3  # S3 answers 409 to a conditional write racing another; AWS says retry


class S3Store:
    """ObjectStore over ``s3://bucket/prefix``."""

    def __init__(self, bucket: str, prefix: str = "", client: Any = None, page_size: int = _MAX_KEYS) -> None:
        """``client`` defaults to the process's (``resources.s3_client``); ``page_size`` (1..1000) is the listing's
        MaxKeys."""
        if not bucket:
            raise ValueError("S3Store needs a bucket name")
        if not 1 <= page_size <= _MAX_KEYS:
            raise ValueError(f"page_size must be 1..{_MAX_KEYS}, not {page_size}")
        self.page_size = page_size
        self.bucket = bucket
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self._s3 = client if client is not None else resources.s3_client()

    def put(self, key: str, data: bytes) -> None:
        """Write the whole object, replacing any previous one (S3 PUTs are atomic)."""
        with _translated(key):
            self._s3.put_object(Bucket=self.bucket, Key=self._full(key), Body=data)

    def create(self, key: str, data: bytes) -> None:
        """Write the object only if the key is absent (conditional PUT); raise ``ObjectExists`` otherwise."""
        for attempt in range(_CONFLICT_RETRIES):
            try:
                with _translated(key):
                    self._s3.put_object(Bucket=self.bucket, Key=self._full(key), Body=data, IfNoneMatch="*")
                return
            except _ConditionalConflict:
                if attempt == _CONFLICT_RETRIES - 1:
                    raise StorageError(f"create {key!r} kept conflicting with concurrent writes") from None

    def replace(self, key: str, data: bytes, tag: str) -> None:
        """Write the object only if its ETag is still ``tag`` (conditional PUT); ``ObjectChanged`` otherwise."""
        for attempt in range(_CONFLICT_RETRIES):
            try:
                with _translated(key):
                    self._s3.put_object(Bucket=self.bucket, Key=self._full(key), Body=data, IfMatch=tag)
                return
            except (ObjectExists, ObjectNotFound) as exc:  # 412: another version; 404: deleted since
                raise ObjectChanged(key) from exc
            except _ConditionalConflict:
                if attempt == _CONFLICT_RETRIES - 1:
                    raise ObjectChanged(key) from None

    def get(self, key: str) -> bytes:
        """Read the whole object; raise ``ObjectNotFound`` if absent."""
        return self.get_tagged(key)[0]

    def get_tagged(self, key: str) -> tuple[bytes, str]:
        """Read the whole object and its ETag; raise ``ObjectNotFound`` if absent."""
        with _translated(key):
            response = self._s3.get_object(Bucket=self.bucket, Key=self._full(key))
            return _read_body(response), str(response.get("ETag", ""))

    def get_range(self, key: str, start: int, end: int) -> bytes:
        """Read bytes ``start..end`` inclusive, clipped at the object's end (empty past it)."""
        if start < 0 or end < start:
            raise ValueError(f"byte range {start}-{end} is invalid; need 0 <= start <= end")
        with _translated(key):
            try:
                response = self._s3.get_object(Bucket=self.bucket, Key=self._full(key), Range=f"bytes={start}-{end}")
            except ClientError as exc:
                if _error_code(exc) != "InvalidRange":
                    raise
                self.head(key)  # 416 also answers an empty object; a missing key must still raise ObjectNotFound
                return b""
            return _read_body(response)

    def head(self, key: str) -> ObjectInfo:
        """Size of the object; raise ``ObjectNotFound`` if absent."""
        with _translated(key):
            response = self._s3.head_object(Bucket=self.bucket, Key=self._full(key))
        return ObjectInfo(key=key, size=int(response["ContentLength"]))

    def list(self, prefix: str, start_after: str = "", limit: int | None = None) -> Iterator[ObjectInfo]:
        """Objects whose key starts with ``prefix``, after ``start_after``, in UTF-8 byte order (lazy pages)."""
        if limit is not None and limit <= 0:
            return iter(())
        return self._pages(prefix, start_after, limit)

    def delete(self, key: str) -> None:
        """Remove the object; deleting an absent key is not an error (as in S3)."""
        with _translated(key):
            self._s3.delete_object(Bucket=self.bucket, Key=self._full(key))

    def delete_many(self, keys: Sequence[str]) -> None:
        """Remove the objects with DeleteObjects, 1000 keys per request; absent keys are not errors."""
        for first in range(0, len(keys), _MAX_KEYS):
            batch = keys[first : first + _MAX_KEYS]
            objects = [{"Key": self._full(key)} for key in batch]
            with _translated(batch[0]):
                response = self._s3.delete_objects(Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True})
            errors = response.get("Errors") or []
            if errors:
                first_error = errors[0]
                raise StorageError(
                    f"S3 could not delete {len(errors)} of {len(batch)} objects; first: "
                    f"{first_error.get('Key')} ({first_error.get('Code')})"
                )

    def _full(self, key: str) -> str:
        validate_key(key)
        return self.prefix + key

    def _pages(self, prefix: str, start_after: str, limit: int | None) -> Iterator[ObjectInfo]:
        request: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.prefix + prefix}
        if start_after:
            request["StartAfter"] = self.prefix + start_after
        page_size = self.page_size if limit is None else min(limit, self.page_size)
        if page_size < _MAX_KEYS:
            request["MaxKeys"] = page_size  # a small limit must not fetch 1000 keys to use 3
        remaining = limit
        strip = len(self.prefix)
        while True:
            with _translated(prefix):
                page = self._s3.list_objects_v2(**request)
            for item in page.get("Contents", []):
                yield ObjectInfo(key=item["Key"][strip:], size=int(item["Size"]), tag=item.get("ETag", ""))
                if remaining is not None:
                    remaining -= 1
                    if remaining == 0:
                        return
            if not page.get("IsTruncated"):
                return
            request["ContinuationToken"] = page["NextContinuationToken"]


class _ConditionalConflict(Exception):
    """S3's 409 ConditionalRequestConflict: another conditional write to the key is in flight."""


@contextmanager
def _translated(key: str) -> Iterator[None]:
    """Turn boto errors into the port's errors (by S3 error code, never by message text)."""
    try:
        yield
    except ClientError as exc:
        code = _error_code(exc)
        if code in _NOT_FOUND_CODES:
            raise ObjectNotFound(key) from exc
        if code == "PreconditionFailed":
            raise ObjectExists(key) from exc
        if code == "ConditionalRequestConflict":
            raise _ConditionalConflict() from exc
        raise StorageError(f"S3 {code} on {key!r}: {exc}") from exc
    except BotoCoreError as exc:
        raise StorageError(f"S3 request for {key!r} failed: {exc}") from exc


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _read_body(response: dict[str, Any]) -> bytes:
    body = response["Body"]
    try:
        return bytes(body.read())
    finally:
        body.close()
