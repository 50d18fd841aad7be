"""Streams as objects: create, find, list and delete stream records (the kinesisvideo control plane).

The record itself is ``stream_record``, ListStreams' batched reads through the summaries cache ``stream_listing``,
and the deletion of a deleted stream's media ``stream_purge``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Generator
from dataclasses import replace

from stillframe.catalog import keys
from stillframe.catalog.record_locks import record_lock
from stillframe.catalog.stream_listing import StreamListing
from stillframe.catalog.stream_purge import purge_deleted, purge_media, remember_purge
from stillframe.catalog.stream_record import ACTIVE, DELETING, NotAStreamRecord, StreamRecord, skip_foreign, stream_arn
from stillframe.catalog.stream_summaries import StreamSummaries
from stillframe.domain.stream_arn import StreamArn
from stillframe.errors import (
    ObjectChanged,
    ObjectExists,
    ObjectNotFound,
    ResourceInUseError,
    ResourceNotFoundError,
    StoreFullError,
    VersionMismatchError,
)
from stillframe.storage.port import ObjectStore

DELETE_BUDGET_S = 10.0
WRITE_ATTEMPTS = 5  # conditional record writes that lost to another writer are tried again this often


class StreamCatalog:
    """Stream records over an ObjectStore."""

    def __init__(
        self, store: ObjectStore, *, region: str, account_id: str, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._region = region
        self._account_id = account_id
        self._clock = clock
        self._listing = StreamListing(store, StreamSummaries(store))

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
            name=name,
            arn=stream_arn(self._region, self._account_id, name, created),
            version=new_version(),
            status=ACTIVE,
            creation_ms=created,
            retention_hours=retention_hours,
            device_name=device_name,
            media_type=media_type,
            kms_key_id=kms_key_id,
            tags=dict(tags or {}),
        )
        try:
            self._store.create(keys.stream_record_key(name), record.to_json())
        except ObjectExists as exc:
            raise ResourceInUseError(f"The stream {name} already exists.") from exc
        return record

    def load(self, name: str) -> StreamRecord | None:
        """The record whatever its status, or None."""
        key = keys.stream_record_key(name)
        try:
            return StreamRecord.from_json(self._store.get(key))
        except ObjectNotFound:
            return None
        except NotAStreamRecord:
            skip_foreign(key)
            return None

    def find(self, name: str, arn: str | None = None, *, include_deleting: bool = False) -> StreamRecord:
        """The stream named (and, when given, with this exact ARN); ResourceNotFoundError otherwise."""
        return self.find_tagged(name, arn, include_deleting=include_deleting)[0]

    def find_tagged(
        self, name: str, arn: str | None = None, *, include_deleting: bool = False
    ) -> tuple[StreamRecord, str]:
        """``find``, with the tag of the version read: writing it back with ``replace`` fails if it changed since."""
        key = keys.stream_record_key(name)
        try:
            data, tag = self._store.get_tagged(key)
            record = StreamRecord.from_json(data)
        except ObjectNotFound:
            raise ResourceNotFoundError(f"The stream {arn or name} does not exist.") from None
        except NotAStreamRecord:
            skip_foreign(key)
            raise ResourceNotFoundError(f"The stream {arn or name} does not exist.") from None
        if arn is not None and record.arn != arn:
            raise ResourceNotFoundError(f"The stream {arn} does not exist.")
        if record.status == DELETING and not include_deleting:
            raise ResourceNotFoundError(f"The stream {name} is being deleted.")
        return record, tag

    def rewrite(
        self,
        name: str,
        arn: str | None,
        change: Callable[[StreamRecord], StreamRecord],
        *,
        include_deleting: bool = True,
    ) -> StreamRecord:
        """The one read-check-write of a stream record: read it (``find_tagged``), ``change`` it (which checks and
        raises to refuse), write it back only if no other writer wrote it since; on losing that race, start again
        from the new version, up to ``WRITE_ATTEMPTS`` times. Returns the record written.

        Callers hold ``record_lock(name)`` around it (threads of one process in turn); other processes are kept
        out by the conditional write. ResourceInUseError when every attempt lost.
        """
        for _ in range(WRITE_ATTEMPTS):
            record, tag = self.find_tagged(name, arn, include_deleting=include_deleting)
            changed = change(record)
            try:
                self._store.replace(keys.stream_record_key(name), changed.to_json(), tag)
            except ObjectChanged:
                continue  # written by another process since it was read: apply the change to the new version
            return changed
        raise ResourceInUseError(f"The stream {name} kept changing under concurrent updates; try again.")

    @staticmethod
    def cursor(record: StreamRecord) -> str:
        """Where a listing resumes after ``record`` (``list``'s ``start_after``): the layout stays in the catalog."""
        return keys.stream_record_key(record.name)

    def list(self, *, begins_with: str = "", start_after: str = "") -> Generator[StreamRecord, None, None]:
        """Stream records in key order, optionally only names with a prefix, after a cursor key.

        Keys are listed with their tags; a record whose tag matches the summaries cache comes from it, the rest
        are read concurrently a batch at a time (on S3 one GET each) and cached. A listing that had to read many
        records saves the cache for the next process (``stream_summaries``).
        """
        return self._listing.records(begins_with=begins_with, start_after=start_after)

    def delete(self, arn: str, current_version: str | None = None, *, budget_s: float = DELETE_BUDGET_S) -> bool:
        """Delete the stream; returns whether all of its media is gone already.

        The record goes at once (the name is free for CreateStream, DescribeStream answers not found), after a
        purge record (``purge/<media id>``) is written; media is then deleted in batches for up to ``budget_s``,
        and what is left is finished by later deletes and ``stillframe reindex --all`` (on S3 the lifecycle
        rule expires it too). Media lives under the stream's ``media_id`` (name + creation time), so a stream
        re-created with the same name never sees old media.
        """
        deadline = time.monotonic() + budget_s
        name = StreamArn.parse(arn).name
        with record_lock(name):  # an update (stream_updates) must not write the record back after this
            record = self._mark_deleting(name, arn, current_version)
            remember_purge(self._store, record.media_id)
            self._store.delete(keys.stream_record_key(name))
        done = self.purge(record.media_id, deadline=deadline)
        self.purge_deleted(deadline=deadline)  # leftovers of earlier deletes, with what time remains
        return done

    def _mark_deleting(self, name: str, arn: str, current_version: str | None) -> StreamRecord:
        """Write the DELETING status conditionally: an update that read the ACTIVE record in another process then
        fails to write it back (and, reading again, finds it DELETING), so nothing can bring the record back."""
        read: list[StreamRecord] = []

        def mark(record: StreamRecord) -> StreamRecord:
            require_version(record, current_version)  # checked again on every attempt: another writer may move it
            read.append(record)
            return replace(record, status=DELETING)

        try:
            return self.rewrite(name, arn, mark, include_deleting=True)
        except StoreFullError:
            return read[-1]  # deleting is how space is freed: go on without the mark (deletes need no space)

    def purge(self, media_id: str, *, deadline: float | None = None) -> bool:
        """Delete a deleted stream's media in batches until done (then its purge record) or past ``deadline``."""
        return purge_media(self._store, media_id, deadline=deadline)

    def purge_deleted(self, *, deadline: float | None = None) -> int:
        """Finish the media deletion of streams deleted earlier; returns how many were finished."""
        return purge_deleted(self._store, deadline=deadline)


def require_version(record: StreamRecord, current_version: str | None) -> None:
    """VersionMismatchError when a ``CurrentVersion`` was given and is not the record's version."""
    if current_version is not None and current_version != record.version:
        raise VersionMismatchError(
            f"CurrentVersion {current_version} does not match the stream's version {record.version}."
        )


def new_version() -> str:
    """A fresh opaque Version (the model's pattern: [a-zA-Z0-9]+); every write of a record's content mints one."""
    return secrets.token_hex(10)
