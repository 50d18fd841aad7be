"""Streams as objects: create, find, list and delete stream records (the kinesisvideo control plane)."""

from __future__ import annotations

import builtins
import contextlib
import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from stillframe.catalog import keys
from stillframe.catalog.record_locks import record_lock
from stillframe.catalog.stream_summaries import StreamSummaries
from stillframe.errors import (
    ObjectChanged,
    ObjectExists,
    ObjectNotFound,
    ResourceInUseError,
    ResourceNotFoundError,
    StoreFullError,
    VersionMismatchError,
)
from stillframe.storage import delete_objects
from stillframe.storage.port import ObjectInfo, ObjectStore

ACTIVE = "ACTIVE"
DELETING = "DELETING"
DELETE_BUDGET_S = 10.0
WRITE_ATTEMPTS = 5  # conditional record writes that lost to another writer are tried again this often
PURGE_BATCH = 1000  # S3 DeleteObjects takes at most 1000 keys
# ListStreams reads records this many at a time (a small first batch for small pages), LOAD_THREADS at once.
LOAD_BATCH_FIRST = 32
LOAD_BATCH = 256
LOAD_THREADS = 32  # the S3 client's connection pool holds 32
LOAD_SUMMARIES_AT = 32  # a batch missing this many cached records loads the saved summaries (one GET)
SAVE_AFTER_READS = 64  # a listing that read this many records saves the summaries for the next process
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _record_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=LOAD_THREADS, thread_name_prefix="stream-records")
        return _pool


@dataclass(frozen=True)
class StreamRecord:
    """A stream as DescribeStream shows it (CreationTime in epoch ms)."""

    StreamName: str
    StreamARN: str
    Version: str
    Status: str
    CreationTime: int
    DataRetentionInHours: int
    DeviceName: str | None = None
    MediaType: str | None = None
    KmsKeyId: str | None = None
    Tags: dict[str, str] = field(default_factory=dict)
    # UpdateImageGenerationConfiguration's structure as validated (wire names); None when there is none.
    ImageGenerationConfiguration: dict[str, Any] | None = None

    @property
    def media_id(self) -> str:
        """Where this stream's media lives: name plus creation time, so a re-created stream starts empty."""
        return f"{self.StreamName}/{self.CreationTime}"

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> StreamRecord:
        return cls(**json.loads(data))

    def stream_info(self) -> dict[str, object]:
        """The StreamInfo shape of the kinesisvideo model."""
        info: dict[str, object] = {
            "StreamName": self.StreamName,
            "StreamARN": self.StreamARN,
            "Version": self.Version,
            "Status": self.Status,
            "CreationTime": self.CreationTime / 1000,
            "DataRetentionInHours": self.DataRetentionInHours,
        }
        for name in ("DeviceName", "MediaType", "KmsKeyId"):
            if getattr(self, name) is not None:
                info[name] = getattr(self, name)
        return info


def stream_arn(region: str, account_id: str, name: str, creation_ms: int) -> str:
    return f"arn:aws:kinesisvideo:{region}:{account_id}:stream/{name}/{creation_ms}"


class StreamCatalog:
    """Stream records over an ObjectStore."""

    def __init__(
        self, store: ObjectStore, *, region: str, account_id: str, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._region = region
        self._account_id = account_id
        self._clock = clock
        self._summaries = StreamSummaries(store)

    def create(
        self,
        name: str,
        *,
        retention_hours: int = 0,
        device_name: str | None = None,
        media_type: str | None = None,
        kms_key_id: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> StreamRecord:
        """Create an ACTIVE stream; ResourceInUseError if the name is taken (create-if-absent, race-free)."""
        created = int(self._clock() * 1000)
        record = StreamRecord(
            StreamName=name,
            StreamARN=stream_arn(self._region, self._account_id, name, created),
            Version=secrets.token_hex(10),
            Status=ACTIVE,
            CreationTime=created,
            DataRetentionInHours=retention_hours,
            DeviceName=device_name,
            MediaType=media_type,
            KmsKeyId=kms_key_id,
            Tags=dict(tags or {}),
        )
        try:
            self._store.create(keys.stream_record_key(name), record.to_json())
        except ObjectExists as exc:
            raise ResourceInUseError(f"The stream {name} already exists.") from exc
        return record

    def load(self, name: str) -> StreamRecord | None:
        """The record whatever its status, or None."""
        try:
            return StreamRecord.from_json(self._store.get(keys.stream_record_key(name)))
        except ObjectNotFound:
            return None

    def find(self, name: str, arn: str | None = None, *, include_deleting: bool = False) -> StreamRecord:
        """The stream named (and, when given, with this exact ARN); ResourceNotFoundError otherwise."""
        return self.find_tagged(name, arn, include_deleting=include_deleting)[0]

    def find_tagged(
        self, name: str, arn: str | None = None, *, include_deleting: bool = False
    ) -> tuple[StreamRecord, str]:
        """``find``, with the tag of the version read: writing it back with ``replace`` fails if it changed since."""
        try:
            data, tag = self._store.get_tagged(keys.stream_record_key(name))
        except ObjectNotFound:
            raise ResourceNotFoundError(f"The stream {arn or name} does not exist.") from None
        record = StreamRecord.from_json(data)
        if arn is not None and record.StreamARN != arn:
            raise ResourceNotFoundError(f"The stream {arn} does not exist.")
        if record.Status == DELETING and not include_deleting:
            raise ResourceNotFoundError(f"The stream {name} is being deleted.")
        return record, tag

    def replace(self, record: StreamRecord, tag: str) -> None:
        """Write a changed record back if no other writer has written it since it was read at ``tag``
        (``ObjectChanged`` otherwise: read it again and retry)."""
        self._store.replace(keys.stream_record_key(record.StreamName), record.to_json(), tag)

    @staticmethod
    def cursor(record: StreamRecord) -> str:
        """Where a listing resumes after ``record`` (``list``'s ``start_after``): the layout stays in the catalog."""
        return keys.stream_record_key(record.StreamName)

    def list(self, *, begins_with: str = "", start_after: str = "") -> Generator[StreamRecord, None, None]:
        """Stream records in key order, optionally only names with a prefix, after a cursor key.

        Keys are listed with their tags; a record whose tag matches the summaries cache comes from it, the rest
        are read concurrently a batch at a time (on S3 one GET each) and cached. A listing that had to read many
        records saves the cache for the next process (``stream_summaries``).
        """
        prefix = keys.stream_record_key(begins_with)[: -len(".json")]
        listed = (
            info
            for info in self._store.list(prefix, start_after=start_after)
            if keys.stream_name_from_record_key(info.key).startswith(begins_with)
        )  # "streams/a." also matches "streams/a.json": the startswith filter drops it
        seen: builtins.list[str] = []
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
        cached = [self._summaries.get(info.key, info.tag) for info in chunk]
        missing = [info for info, record in zip(chunk, cached, strict=True) if record is None]
        if len(missing) >= LOAD_SUMMARIES_AT:
            self._summaries.load()  # a cold process: one GET for the saved copy beats many record reads
            cached = [self._summaries.get(info.key, info.tag) for info in chunk]
            missing = [info for info, record in zip(chunk, cached, strict=True) if record is None]
        read = dict(zip((info.key for info in missing), _record_pool().map(self._read, missing), strict=True))
        records: builtins.list[StreamRecord] = []
        for info, record in zip(chunk, cached, strict=True):
            if record is not None:
                records.append(StreamRecord(**record))
            elif (fresh := read[info.key]) is not None:
                records.append(fresh)
        return records, len(missing)

    def _read(self, info: ObjectInfo) -> StreamRecord | None:
        """Read one listed record and cache it under the tag it was listed with (a newer read is fine: its tag
        differs, so the next listing reads it again)."""
        try:
            data = self._store.get(info.key)
        except ObjectNotFound:
            return None
        record = StreamRecord.from_json(data)
        self._summaries.put(info.key, info.tag, asdict(record))
        return record

    def delete(self, arn: str, current_version: str | None = None, *, budget_s: float = DELETE_BUDGET_S) -> bool:
        """Delete the stream; returns whether all of its media is gone already.

        The record goes at once (the name is free for CreateStream, DescribeStream answers not found), after a
        purge record (``purge/<media id>``) is written; media is then deleted in batches for up to ``budget_s``,
        and what is left is finished by later deletes and ``stillframe reindex --all`` (on S3 the lifecycle
        rule expires it too). Media lives under the stream's ``media_id`` (name + creation time), so a stream
        re-created with the same name never sees old media.
        """
        deadline = time.monotonic() + budget_s
        name = arn.split("/")[1] if arn.count("/") >= 2 else ""
        with record_lock(name):  # an update (stream_updates) must not write the record back after this
            record = self._mark_deleting(name, arn, current_version)
            self._remember_purge(record.media_id)
            self._store.delete(keys.stream_record_key(name))
        done = self.purge(record.media_id, deadline=deadline)
        self.purge_deleted(deadline=deadline)  # leftovers of earlier deletes, with what time remains
        return done

    def _mark_deleting(self, name: str, arn: str, current_version: str | None) -> StreamRecord:
        """Write the DELETING status conditionally: an update that read the ACTIVE record in another process then
        fails to write it back (and, reading again, finds it DELETING), so nothing can bring the record back."""
        for _ in range(WRITE_ATTEMPTS):
            record, tag = self.find_tagged(name, arn, include_deleting=True)
            if current_version is not None and current_version != record.Version:
                raise VersionMismatchError(
                    f"CurrentVersion {current_version} does not match the stream's version {record.Version}."
                )
            try:
                self.replace(replace(record, Status=DELETING), tag)
                return record
            except ObjectChanged:
                continue  # another process wrote it in between: check the version again
            except StoreFullError:
                return record  # deleting is how space is freed: go on without the mark (deletes need no space)
        raise ResourceInUseError(f"The stream {name} kept changing under concurrent updates; try again.")

    def purge(self, media_id: str, *, deadline: float | None = None) -> bool:
        """Delete a deleted stream's media in batches until done (then its purge record) or past ``deadline``."""
        prefix = keys.media_prefix(media_id)
        while deadline is None or time.monotonic() < deadline:
            batch = [info.key for info in self._store.list(prefix, limit=PURGE_BATCH)]
            if not batch:
                self._store.delete(keys.purge_key(media_id))
                return True
            delete_objects(self._store, batch)
        return False

    def purge_deleted(self, *, deadline: float | None = None) -> int:
        """Finish the media deletion of streams deleted earlier; returns how many were finished."""
        finished = 0
        for info in self._store.list(keys.PURGE_PREFIX):
            if deadline is not None and time.monotonic() >= deadline:
                break
            finished += self.purge(info.key[len(keys.PURGE_PREFIX) :], deadline=deadline)
        return finished

    def _remember_purge(self, media_id: str) -> None:
        try:
            self._store.put(keys.purge_key(media_id), b"")
        except StoreFullError:
            # A full store cannot take even the purge record: free a batch of this stream's media first.
            delete_objects(
                self._store, [info.key for info in self._store.list(keys.media_prefix(media_id), limit=PURGE_BATCH)]
            )
            with contextlib.suppress(StoreFullError):
                self._store.put(keys.purge_key(media_id), b"")
