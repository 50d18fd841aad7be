"""ListStreams' reads: stream records in key order, from the summaries cache where it is current, else read
concurrently a batch at a time (on S3 one GET each) and cached.

A listing that had to read many records saves the cache for the next process (``stream_summaries``); a cold
process with many records missing loads the saved copy first (one GET beats many record reads).
"""

from __future__ import annotations

import itertools
from collections.abc import Generator, Sequence

from stillframe import resources
from stillframe.catalog import keys
from stillframe.catalog.stream_record import NotAStreamRecord, StreamRecord, skip_foreign
from stillframe.catalog.stream_summaries import StreamSummaries
from stillframe.errors import ObjectNotFound
from stillframe.storage.port import ObjectInfo, ObjectStore

# ListStreams reads records this many at a time (a small first batch for small pages), on the process's record
# readers (``resources.record_readers``: as many as the S3 client has connections).
LOAD_BATCH_FIRST = 32
LOAD_BATCH = 256
LOAD_SUMMARIES_AT = 32  # a batch missing this many cached records loads the saved summaries (one GET)
SAVE_AFTER_READS = 64  # a listing that read this many records saves the summaries for the next process


class StreamListing:
    """Stream records listed over an ObjectStore, through a summaries cache."""

    def __init__(self, store: ObjectStore, summaries: StreamSummaries) -> None:
        self._store = store
        self._summaries = summaries

    def records(self, *, begins_with: str = "", start_after: str = "") -> Generator[StreamRecord, None, None]:
        """Stream records in key order, optionally only names with a prefix, after a cursor key."""
        prefix = keys.stream_record_key(begins_with)[: -len(".json")]
        listed = (
            info
            for info in self._store.list(prefix, start_after=start_after)
            if keys.is_stream_record_key(info.key)
            and keys.stream_name_from_record_key(info.key).startswith(begins_with)
        )  # "streams/a." also matches "streams/a.json": the startswith filter drops it; other objects are no records
        seen: list[str] = []
        read = 0
        finished = False
        batch = LOAD_BATCH_FIRST
        try:
            while chunk := list(itertools.islice(listed, batch)):
                seen += [info.key for info in chunk]
                records, fetched = self._records(chunk)
                read += fetched
                yield from records
                batch = LOAD_BATCH
            finished = True
        finally:
            # Cached keys the listing passed without seeing are deleted streams; prefix "streams/<begins_with>".
            last = None if finished else (seen[-1] if seen else start_after)
            self._summaries.forget_absent(prefix, start_after, last, seen)
            if read >= SAVE_AFTER_READS:
                self._summaries.save()

    def _records(self, chunk: Sequence[ObjectInfo]) -> tuple[Sequence[StreamRecord], int]:
        """The records of listed keys, in order (absent ones left out), and how many had to be read."""
        cached = [self._cached(info) for info in chunk]
        missing = [info for info, record in zip(chunk, cached, strict=True) if record is None]
        if len(missing) >= LOAD_SUMMARIES_AT:
            self._summaries.load()  # a cold process: one GET for the saved copy beats many record reads
            cached = [self._cached(info) for info in chunk]
            missing = [info for info, record in zip(chunk, cached, strict=True) if record is None]
        fetched = resources.record_readers().map(self._read, missing)
        read = dict(zip((info.key for info in missing), fetched, strict=True))
        records: list[StreamRecord] = []
        for info, record in zip(chunk, cached, strict=True):
            if record is not None:
                records.append(record)
            elif (fresh := read[info.key]) is not None:
                records.append(fresh)
        return records, len(missing)

    def _cached(self, info: ObjectInfo) -> StreamRecord | None:
        """The cached record of a listed key, if current; a damaged cache entry only costs a read."""
        stored = self._summaries.get(info.key, info.tag)
        if stored is None:
            return None
        try:
            return StreamRecord.from_stored(stored)
        except NotAStreamRecord:
            return None

    def _read(self, info: ObjectInfo) -> StreamRecord | None:
        """Read one listed record and cache it under the tag it was listed with (a newer read is fine: its tag
        differs, so the next listing reads it again)."""
        try:
            record = StreamRecord.from_json(self._store.get(info.key))
        except ObjectNotFound:
            return None
        except NotAStreamRecord:
            skip_foreign(info.key)
            return None
        self._summaries.put(info.key, info.tag, record.to_stored())
        return record
