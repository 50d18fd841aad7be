"""The fragment index: store fragments and find them by time in either timeline.

Write order is blob, then markers, then the dedupe record, so a reader never sees a marker
without its blob, and an interrupted upload retried with the same bytes repairs itself.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator

from stillframe.catalog import keys
from stillframe.catalog.keys import FragmentRecord
from stillframe.errors import ObjectExists, ObjectNotFound
from stillframe.storage.port import ObjectStore

logger = logging.getLogger(__name__)

# A fragment never lasts longer than this (ingest refuses longer GOPs, as KVS does), so the fragment that
# covers time t started after t - MAX_FRAGMENT_MS: one listing from there finds it.
MAX_FRAGMENT_MS = 20_000


def dedupe_digest(producer_ms: int, data: bytes) -> str:
    """Identity of an uploaded fragment: the same bytes at the same producer time are the same fragment."""
    digest = hashlib.sha256(str(producer_ms).encode() + b"\0")
    digest.update(data)
    return digest.hexdigest()


class FragmentIndex:
    """Fragments of all streams over an ObjectStore."""

    def __init__(self, store: ObjectStore) -> None:
        self._store = store

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
            self._store.create(keys.dedupe_key(record.stream, dedupe_digest(record.producer_ms, data)), record.blob_key.encode())
        except ObjectExists:
            logger.info("fragment stored twice concurrently", extra={"stream": record.stream, "fragment": record.number})

    def blob(self, record: FragmentRecord) -> bytes:
        return self._store.get(record.blob_key)

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
