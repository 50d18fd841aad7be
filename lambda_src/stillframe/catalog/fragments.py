"""The fragment index: store fragments and find them by time in either timeline.

Write order is blob, then markers, then the dedupe record, so a reader never sees a marker
without its blob, and an interrupted upload retried with the same bytes repairs itself.

Blob reads go through a small LRU of fragment bytes: a paginated GetImages range asks for the same
boundary fragments page after page, and a warm process should fetch each from S3 once.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator

from stillframe.catalog import keys
from stillframe.catalog.keys import FragmentRecord
from stillframe.errors import ObjectExists, ObjectNotFound
from stillframe.storage.port import ObjectStore

logger = logging.getLogger(__name__)

# A fragment never lasts longer than this (ingest refuses longer GOPs, as KVS does), so the fragment that
# covers time t started after t - MAX_FRAGMENT_MS: one listing from there finds it.
MAX_FRAGMENT_MS = 20_000
# About a minute of 1080p at 8 Mbit/s: enough for the fragments of a paginated 300 s range to be re-read from
# memory while the paginator walks it, small beside the media function's memory.
DEFAULT_BLOB_CACHE_BYTES = 64 * 1024 * 1024


def dedupe_digest(producer_ms: int, data: bytes) -> str:
    """Identity of an uploaded fragment: the same bytes at the same producer time are the same fragment."""
    digest = hashlib.sha256(str(producer_ms).encode() + b"\0")
    digest.update(data)
    return digest.hexdigest()


class BlobCache:
    """Fragment bytes by blob key, least recently used out first, bounded by total bytes; thread-safe.

    Blob keys are never rewritten with other bytes (a fragment number is unique and a stream's media id
    changes when it is re-created), so a cached blob is never stale.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._blobs: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        """The cached bytes, now the most recently used, or None."""
        with self._lock:
            data = self._blobs.get(key)
            if data is not None:
                self._blobs.move_to_end(key)
            return data

    def put(self, key: str, data: bytes) -> None:
        """Remember ``data``, evicting the least recently used blobs to stay within ``max_bytes``."""
        if len(data) > self.max_bytes:
            return
        with self._lock:
            previous = self._blobs.pop(key, None)
            self._size -= len(previous) if previous is not None else 0
            self._blobs[key] = data
            self._size += len(data)
            while self._size > self.max_bytes:
                _, evicted = self._blobs.popitem(last=False)
                self._size -= len(evicted)


class FragmentIndex:
    """Fragments of all streams over an ObjectStore."""

    def __init__(self, store: ObjectStore, *, blob_cache_bytes: int = DEFAULT_BLOB_CACHE_BYTES) -> None:
        self._store = store
        self._cache = BlobCache(blob_cache_bytes)

    def existing(self, stream: str, producer_ms: int, data: bytes) -> FragmentRecord | None:
        """The fragment already stored for these bytes at this producer time, if its blob is there."""
        try:
            blob_key = self._store.get(keys.dedupe_key(stream, dedupe_digest(producer_ms, data))).decode()
            info = self._store.head(blob_key)
        except ObjectNotFound:
            return None
        return FragmentRecord.from_blob(stream, blob_key, info.size)

    def add(self, record: FragmentRecord, data: bytes) -> None:
        """Store the blob, then its markers, then remember its identity."""
        self._store.put(record.blob_key, data)
        for timeline in keys.TIMELINES:
            self._store.put(record.marker_key(timeline), b"")
        try:
            self._store.create(
                keys.dedupe_key(record.stream, dedupe_digest(record.producer_ms, data)), record.blob_key.encode()
            )
        except ObjectExists:
            logger.info(
                "fragment stored twice concurrently", extra={"stream": record.stream, "fragment": record.number}
            )

    def blob(self, record: FragmentRecord) -> bytes:
        """The fragment's bytes, from the cache when this process read them recently."""
        data = self._cache.get(record.blob_key)
        if data is None:
            data = self._store.get(record.blob_key)
            self._cache.put(record.blob_key, data)
        return data

    def scan(
        self, stream: str, timeline: str, start_ms: int, end_ms: int, *, after_key: str = ""
    ) -> Iterator[tuple[str, FragmentRecord]]:
        """(marker key, fragment) for fragments whose start lies in [start_ms, end_ms], in start order."""
        prefix = keys.index_prefix(stream, timeline)
        start_after = prefix + keys.stamp(start_ms - 1) + "~" if start_ms > 0 else ""
        for info in self._store.list(prefix, start_after=max(start_after, after_key)):
            try:
                record = FragmentRecord.from_marker(stream, timeline, info.key)
            except ValueError:
                logger.warning("ignoring malformed index marker", extra={"key": info.key})
                continue
            if record.start(timeline) > end_ms:
                return
            yield info.key, record

    def covering_candidates(self, stream: str, timeline: str, start_ms: int, end_ms: int) -> list[FragmentRecord]:
        """Every fragment that may cover a time in [start_ms, end_ms] (started within MAX_FRAGMENT_MS before)."""
        return [record for _, record in self.scan(stream, timeline, max(0, start_ms - MAX_FRAGMENT_MS), end_ms)]

    def blobs(self, stream: str) -> Iterator[FragmentRecord]:
        """Every fragment blob of a stream (for reindexing)."""
        for info in self._store.list(keys.fragments_prefix(stream)):
            try:
                yield FragmentRecord.from_blob(stream, info.key, info.size)
            except ValueError:
                logger.warning("ignoring unexpected object", extra={"key": info.key})

    def reindex(self, stream: str) -> int:
        """Rebuild every marker from the blobs; returns how many fragments were indexed."""
        count = 0
        for record in self.blobs(stream):
            for timeline in keys.TIMELINES:
                self._store.put(record.marker_key(timeline), b"")
            count += 1
        return count
