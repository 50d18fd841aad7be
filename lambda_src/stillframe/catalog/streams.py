"""Streams as objects: create, find, list and delete stream records (the kinesisvideo control plane)."""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace

from stillframe.catalog import keys
from stillframe.errors import (
    ObjectExists,
    ObjectNotFound,
    ResourceInUseError,
    ResourceNotFoundError,
    StoreFullError,
    VersionMismatchError,
)
from stillframe.storage.port import ObjectStore

ACTIVE = "ACTIVE"
DELETING = "DELETING"


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
        record = self.load(name)
        if record is None or (arn is not None and record.StreamARN != arn):
            raise ResourceNotFoundError(f"The stream {arn or name} does not exist.")
        if record.Status == DELETING and not include_deleting:
            raise ResourceNotFoundError(f"The stream {name} is being deleted.")
        return record

    def list(self, *, begins_with: str = "", start_after: str = "") -> Iterator[StreamRecord]:
        """Stream records in key order, optionally only names with a prefix, after a cursor key."""
        prefix = keys.stream_record_key(begins_with)[: -len(".json")]
        for info in self._store.list(prefix, start_after=start_after):
            name = keys.stream_name_from_record_key(info.key)
            if not name.startswith(begins_with):  # "streams/a." also matches "streams/a.json"
                continue
            record = self.load(name)
            if record is not None:
                yield record

    def delete(self, arn: str, current_version: str | None = None, *, budget_s: float = 10.0) -> int:
        """Mark DELETING, remove media objects for up to ``budget_s``, then the record; returns objects left.

        Media lives under the stream's ``media_id`` (name + creation time), so a stream re-created with the
        same name never sees old media; what is not deleted in time is left to the bucket's lifecycle rule.
        """
        name = arn.split("/")[1] if arn.count("/") >= 2 else ""
        record = self.find(name, arn, include_deleting=True)
        if current_version is not None and current_version != record.Version:
            raise VersionMismatchError(
                f"CurrentVersion {current_version} does not match the stream's version {record.Version}."
            )
        # Deleting is how space is freed: on a full store go on without the DELETING mark (deletes need no space).
        with contextlib.suppress(StoreFullError):
            self._store.put(keys.stream_record_key(name), replace(record, Status=DELETING).to_json())
        deadline = time.monotonic() + budget_s
        left = 0
        for info in self._store.list(keys.media_prefix(record.media_id)):
            if time.monotonic() > deadline:
                left += 1
                continue
            self._store.delete(info.key)
        self._store.delete(keys.stream_record_key(name))
        return left
