"""A local store that answers with S3-like latency, to show what fetching (and not re-fetching) costs.

A model, not a measurement: each GET waits a first-byte latency plus size / bandwidth, each LIST a
round trip, as S3 in-region roughly behaves for a Lambda function (tens of ms to first byte, ~100 MB/s
per connection). Sleeping releases the GIL, so concurrent fetches overlap as they would over the network.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from stillframe.storage.port import ObjectInfo, ObjectStore

FIRST_BYTE_S = 0.030
BYTES_PER_S = 100e6
LIST_S = 0.025


class SimulatedS3:
    """Wraps an ObjectStore; reads pay S3-like latency, writes go straight through."""

    def __init__(self, inner: ObjectStore) -> None:
        self._inner = inner
        self.gets = 0

    def get(self, key: str) -> bytes:
        """The object, after a first-byte wait and a transfer time."""
        data = self._inner.get(key)
        self.gets += 1
        time.sleep(FIRST_BYTE_S + len(data) / BYTES_PER_S)
        return data

    def get_tagged(self, key: str) -> tuple[bytes, str]:
        """The object and its tag, priced like a GET."""
        data, tag = self._inner.get_tagged(key)
        self.gets += 1
        time.sleep(FIRST_BYTE_S + len(data) / BYTES_PER_S)
        return data, tag

    def get_range(self, key: str, start: int, end: int) -> bytes:
        """Part of the object, priced like a GET of that part."""
        data = self._inner.get_range(key, start, end)
        self.gets += 1
        time.sleep(FIRST_BYTE_S + len(data) / BYTES_PER_S)
        return data

    def head(self, key: str) -> ObjectInfo:
        """Size of the object, after a round trip."""
        time.sleep(FIRST_BYTE_S)
        return self._inner.head(key)

    def list(self, prefix: str, start_after: str = "", limit: int | None = None) -> Iterator[ObjectInfo]:
        """The listing, after one round trip (a page of up to 1000 keys)."""
        time.sleep(LIST_S)
        return self._inner.list(prefix, start_after, limit)

    def put(self, key: str, data: bytes) -> None:
        self._inner.put(key, data)

    def create(self, key: str, data: bytes) -> None:
        self._inner.create(key, data)

    def replace(self, key: str, data: bytes, tag: str) -> None:
        self._inner.replace(key, data, tag)

    def delete(self, key: str) -> None:
        self._inner.delete(key)
