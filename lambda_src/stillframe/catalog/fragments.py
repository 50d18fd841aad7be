"""The fragment index: store fragments and find them by time in either timeline.

Writing one fragment is crash-safe and idempotent (docs/storage-layout.md, "Writing a fragment"):

1. create-if-absent the claim ``dedupe/<digest>`` (body: the blob key). If it exists, this upload was seen
   before: its fragment number is reused, and when that fragment is complete nothing is written;
2. put ``pending/<number>`` (what a sweep needs to finish or undo it);
3. put the blob; 4. put the producer marker; 5. put the server marker (the commit point);
6. delete ``pending/<number>``.

Every key is deterministic once the claim exists, so a re-run after a crash at any step rewrites the same
objects instead of adding new ones, and a reader never sees a marker without its blob. What a crash leaves
without a re-run is a pending record, which ``stillframe reindex`` finishes or undoes
(``stillframe.catalog.repair``).

Blob reads go through a small LRU of fragment bytes: a paginated GetImages range asks for the same
boundary fragments page after page, and a warm process should fetch each from S3 once.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator

from stillframe import resources
from stillframe.catalog import keys, repair
from stillframe.catalog.keys import COMMIT_ORDER, FragmentRecord, dedupe_digest
from stillframe.errors import ObjectExists, ObjectNotFound
from stillframe.storage.port import ObjectStore

logger = logging.getLogger(__name__)

# A fragment never lasts longer than this (ingest refuses longer GOPs, as KVS does), so the fragment that
# covers time t started after t - MAX_FRAGMENT_MS: one listing from there finds it.
MAX_FRAGMENT_MS = 20_000
# Listing batches: S3 answers at most 1000 keys per request; fewer than 16 saves nothing.
MIN_LISTING_BATCH = 16
MAX_LISTING_BATCH = 1000
# About a minute of 1080p at 8 Mbit/s: enough for the fragments of a paginated 300 s range to be re-read from
# memory while the paginator walks it, small beside the media function's memory.
DEFAULT_BLOB_CACHE_BYTES = 64 * 1024 * 1024


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

    def __init__(
        self,
        store: ObjectStore,
        *,
        blob_cache_bytes: int = DEFAULT_BLOB_CACHE_BYTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._cache = BlobCache(blob_cache_bytes)
        self._clock = clock

    def existing(self, stream: str, producer_ms: int, data: bytes) -> FragmentRecord | None:
        """The complete fragment already stored for these bytes at this producer time, or None."""
        record = self._claimed(keys.dedupe_key(stream, dedupe_digest(producer_ms, data)), stream, len(data))
        return record if record is not None and self.is_complete(record) else None

    def add(self, record: FragmentRecord, data: bytes) -> FragmentRecord:
        """Store the fragment exactly once (see the module docstring); returns the fragment as stored.

        When these bytes at this producer time were claimed before (an earlier or concurrent upload, or one
        cut short by a crash), the stored fragment keeps the earlier number and ``record``'s is dropped.
        """
        claim_key = keys.dedupe_key(record.stream, dedupe_digest(record.producer_ms, data))
        try:
            self._store.create(claim_key, record.blob_key.encode())
        except ObjectExists:
            claimed = self._claimed(claim_key, record.stream, len(data))
            if claimed is not None:
                if self.is_complete(claimed):
                    # A crash may have come just before the last step; deleting an absent key is free of errors.
                    self._store.delete(keys.pending_key(claimed.stream, claimed.number))
                    return claimed
                record = claimed  # finish the earlier attempt under its own keys
        pending = keys.pending_key(record.stream, record.number)
        self._store.put(pending, pending_body(record, claim_key, int(self._clock() * 1000)))
        self._store.put(record.blob_key, data)
        for timeline in COMMIT_ORDER:
            self._store.put(record.marker_key(timeline), b"")
        self._store.delete(pending)
        return record

    def is_complete(self, record: FragmentRecord) -> bool:
        """Whether every write of the fragment happened: its blob and its last-written marker exist."""
        try:
            self._store.head(record.marker_key(COMMIT_ORDER[-1]))
            self._store.head(record.blob_key)
        except ObjectNotFound:
            return False
        return True

    def _claimed(self, claim_key: str, stream: str, size: int) -> FragmentRecord | None:
        try:
            blob_key = self._store.get(claim_key).decode()
        except ObjectNotFound:
            return None  # undone by a sweep since: the caller's own record goes ahead
        return FragmentRecord.from_blob(stream, blob_key, size)

    def blob(self, record: FragmentRecord) -> bytes:
        """The fragment's bytes, from the cache when this process read them recently."""
        data = self._cache.get(record.blob_key)
        if data is None:
            data = self._store.get(record.blob_key)
            self._cache.put(record.blob_key, data)
        return data

    def by_number(self, stream: str, number: str) -> FragmentRecord | None:
        """The complete fragment with this number, or None: one listing of its blob key's prefix."""
        for info in self._store.list(f"{keys.fragments_prefix(stream)}{number}.", limit=4):
            try:
                record = FragmentRecord.from_blob(stream, info.key, info.size)
            except ValueError:
                continue
            if record.number == number and self.is_complete(record):
                return record
        return None

    def by_numbers(self, stream: str, numbers: list[str]) -> dict[str, FragmentRecord | None]:
        """``by_number`` of each, looked up in parallel (one listing each: S3 round trips overlap)."""
        found = resources.fetch_pool().map(lambda number: self.by_number(stream, number), numbers)
        return dict(zip(numbers, found, strict=True))

    def scan(
        self,
        stream: str,
        timeline: str,
        start_ms: int,
        end_ms: int,
        *,
        after_key: str = "",
        expected: int | None = None,
    ) -> Iterator[tuple[str, FragmentRecord]]:
        """(marker key, fragment) for fragments whose start lies in [start_ms, end_ms], in start order.

        The markers are listed in batches that seek (``start_after``) from the last one seen: the first batch
        holds one marker per second of the range, or ``expected`` when fewer, later ones grow, so a page reads
        about what it needs (on S3, one ListObjectsV2 with a matching MaxKeys) at any history length.
        """
        prefix = keys.index_prefix(stream, timeline)
        cursor = max(keys.marker_seek(stream, timeline, start_ms), after_key)
        # A key per second of the range, or fewer when the caller wants fewer (ListFragments' MaxResults + 1): a
        # 60 s ListFragments with MaxResults 1000 must not list 1000 keys of the stream's later history.
        span = (end_ms - start_ms) // 1000 + 2
        batch = span if expected is None else min(expected, span)
        batch = min(max(batch, MIN_LISTING_BATCH), MAX_LISTING_BATCH)
        while True:
            seen = 0
            for info in self._store.list(prefix, start_after=cursor, limit=batch):
                seen += 1
                cursor = info.key
                try:
                    record = FragmentRecord.from_marker(stream, timeline, info.key)
                except ValueError:
                    logger.warning("ignoring malformed index marker", extra={"key": info.key})
                    continue
                if record.start(timeline) > end_ms:
                    return
                yield info.key, record
            if seen < batch:
                return
            batch = min(batch * 4, MAX_LISTING_BATCH)

    def covering_candidates(self, stream: str, timeline: str, start_ms: int, end_ms: int) -> list[FragmentRecord]:
        """Every fragment that may cover a time in [start_ms, end_ms] (started within MAX_FRAGMENT_MS before)."""
        return [record for _, record in self.scan(stream, timeline, max(0, start_ms - MAX_FRAGMENT_MS), end_ms)]

    def reindex(self, stream: str, *, grace_ms: int | None = None) -> repair.RepairReport:
        """Finish or undo interrupted writes, then make the markers match the complete blobs exactly."""
        grace = repair.PENDING_GRACE_MS if grace_ms is None else grace_ms
        return repair.reindex(self._store, stream, now_ms=int(self._clock() * 1000), grace_ms=grace)


def pending_body(record: FragmentRecord, claim_key: str, written_ms: int) -> bytes:
    """What a sweep needs to finish or undo an interrupted write."""
    return json.dumps(
        {"blob": record.blob_key, "size": record.size, "claim": claim_key, "written": written_ms}
    ).encode()
