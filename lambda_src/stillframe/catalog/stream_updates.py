"""Changing a stream record: retention, device name and media type, tags. Every write advances its Version."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from stillframe.catalog.record_locks import record_lock
from stillframe.catalog.stream_record import ACTIVE, StreamRecord
from stillframe.catalog.streams import StreamCatalog, new_version, require_version
from stillframe.domain.requests import StreamRef
from stillframe.domain.stream_arn import StreamArn
from stillframe.errors import (
    InvalidResourceFormatError,
    ResourceInUseError,
    ResourceNotFoundError,
    TagsPerResourceExceededLimitError,
)
from stillframe.storage.port import ObjectStore

MAX_TAGS = 50


class StreamUpdates:
    """Read-check-write of stream records, one stream at a time per process (``record_lock``)."""

    def __init__(self, store: ObjectStore, streams: StreamCatalog) -> None:
        self._store = store
        self._streams = streams

    def update(
        self,
        stream: StreamRef,
        change: Callable[[StreamRecord], StreamRecord],
        *,
        current_version: str | None = None,
    ) -> StreamRecord:
        """Apply ``change`` to the ACTIVE stream and store it under a new Version; returns the new record.

        ResourceNotFoundError for an unknown stream, ResourceInUseError while it is being deleted,
        VersionMismatchError when ``current_version`` is given and is not the stream's version.
        """
        name = stream.stream_name

        def checked(record: StreamRecord) -> StreamRecord:
            if record.status != ACTIVE:
                raise ResourceInUseError(f"The stream {name} is {record.status}, not ACTIVE: it cannot be updated.")
            require_version(record, current_version)
            return replace(change(record), version=new_version())

        with record_lock(name):  # threads of this process in turn; other processes through the conditional write
            return self._streams.rewrite(name, stream.arn, checked, include_deleting=True)

    def tag(self, stream: StreamRef, tags: dict[str, str]) -> StreamRecord:
        """Add or replace tags; TagsPerResourceExceededLimitError when the stream would hold more than 50."""

        def change(record: StreamRecord) -> StreamRecord:
            merged = {**record.tags, **tags}
            if len(merged) > MAX_TAGS:
                raise TagsPerResourceExceededLimitError(
                    f"The stream {record.name} has {len(record.tags)} tags; adding these would make "
                    f"{len(merged)}, and a stream can hold at most {MAX_TAGS}."
                )
            return replace(record, tags=merged)

        return self.update(stream, change)

    def untag(self, stream: StreamRef, tag_keys: Iterable[str]) -> StreamRecord:
        """Remove tags by key; keys the stream does not have are ignored."""
        drop = set(tag_keys)
        return self.update(stream, lambda r: replace(r, tags={k: v for k, v in r.tags.items() if k not in drop}))

    def tags(self, stream: StreamRef) -> dict[str, str]:
        """The stream's tags (a stream being deleted is not found, as DescribeStream's siblings answer)."""
        return dict(self._streams.find(stream.stream_name, stream.arn).tags)


def stream_ref_for_stream_tags(stream: StreamRef) -> StreamRef:
    """TagStream's family: a StreamARN naming another resource type is InvalidResourceFormatException."""
    if stream.arn is not None and not StreamArn.parse(stream.arn).is_stream:
        raise InvalidResourceFormatError(f"StreamARN {stream.arn} is not the ARN of a stream.")
    return stream


def stream_ref_for_resource(stream: StreamRef) -> StreamRef:
    """TagResource's family: only streams are resources here (there are no signaling channels)."""
    if stream.arn is not None and not StreamArn.parse(stream.arn).is_stream:
        raise ResourceNotFoundError(
            f"The resource {stream.arn} does not exist: this service has streams only, no signaling channels."
        )
    return stream
