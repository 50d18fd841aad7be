"""The fragment-bytes cache: bounded by bytes, least recently used out first, and used by the index."""

from __future__ import annotations

from stillframe.catalog.fragments import BlobCache, FragmentIndex
from stillframe.catalog.keys import FragmentRecord
from stillframe.storage.local import LocalDirectoryStore


def test_evicts_least_recently_used_within_the_byte_bound():
    cache = BlobCache(max_bytes=10)
    cache.put("a", b"aaaa")
    cache.put("b", b"bbbb")
    assert cache.get("a") == b"aaaa"  # a is now the most recently used
    cache.put("c", b"cccc")  # 12 bytes > 10: b goes
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"aaaa", None, b"cccc")
    cache.put("huge", b"x" * 11)  # larger than the whole cache: not kept, nothing evicted
    assert cache.get("huge") is None and cache.get("a") == b"aaaa"


class CountingStore(LocalDirectoryStore):
    reads = 0

    def get(self, key: str) -> bytes:
        self.reads += 1
        return super().get(key)


def test_the_index_reads_a_blob_from_the_store_once(tmp_path):
    store = CountingStore(tmp_path)
    index = FragmentIndex(store)
    record = FragmentRecord("cam/1", "1", 1000, 1000, 2000, 5)
    index.add(record, b"bytes")
    assert index.blob(record) == index.blob(record) == b"bytes"
    assert store.reads == 1
    assert FragmentIndex(store, blob_cache_bytes=0).blob(record) == b"bytes"
    assert store.reads == 2
