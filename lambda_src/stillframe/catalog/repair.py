"""Repair a stream's fragments after crashes: finish or undo interrupted writes, then rebuild the index.

``stillframe reindex`` runs this. Two steps:

1. Sweep ``pending/``: a fragment whose writes all happened (blob and server marker exist) only loses its
   pending record; one older than the grace period is undone (markers, then blob, then its claim, so a
   reader never sees a marker without its blob); a younger one may still be in flight and is left alone.
2. Make the markers match the blobs: a blob without any marker is kept (and indexed) only if its claim
   points at it, so a blob stored by an older release that crashed before its claim is removed as an
   orphan; markers whose blob is missing are removed; missing markers are written. Markers of the flat
   layout of earlier releases (``index/``) are replaced by sharded ones (``markers/``): the migration.

Afterwards every listed fragment is readable, and a stream repaired twice lists the same fragments.
Memory grows with the stream (sets of keys): this is a maintenance command, not a request path.

``sweep_leftovers`` is the cheap part, which ``stillframe serve`` runs once at start: step 1 for every stream
(one listing of ``pending/`` each) and the media of deleted streams (``purge/``); no marker rebuild.
"""

from __future__ import annotations

import itertools
import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from stillframe.catalog import keys
from stillframe.catalog.keys import COMMIT_ORDER, FragmentRecord, dedupe_digest
from stillframe.errors import ObjectNotFound
from stillframe.storage.port import ObjectStore

if TYPE_CHECKING:
    from stillframe.catalog.streams import StreamCatalog

logger = logging.getLogger(__name__)

# An interrupted write younger than this may belong to an upload still running: a sweep leaves it alone.
PENDING_GRACE_MS = 3_600_000


@dataclass
class RepairReport:
    """What a repair found and did."""

    fragments: int = 0
    pending_finished: int = 0
    pending_undone: int = 0
    pending_in_flight: int = 0
    orphan_blobs_removed: int = 0
    markers_added: int = 0
    markers_removed: int = 0


@dataclass
class LeftoverReport:
    """What a sweep of crash leftovers found and did over every stream."""

    streams: int = 0
    deleted_streams_purged: int = 0
    pending: RepairReport = field(default_factory=RepairReport)


def sweep_leftovers(
    store: ObjectStore, streams: StreamCatalog, *, now_ms: int, grace_ms: int = PENDING_GRACE_MS
) -> LeftoverReport:
    """Finish or undo every stream's interrupted writes older than ``grace_ms``, then finish deleted streams' media."""
    report = LeftoverReport()
    for record in streams.list():
        report.streams += 1
        sweep_pending(store, record.media_id, now_ms=now_ms, grace_ms=grace_ms, report=report.pending)
    report.deleted_streams_purged = streams.purge_deleted()
    return report


def reindex(store: ObjectStore, stream: str, *, now_ms: int, grace_ms: int = PENDING_GRACE_MS) -> RepairReport:
    """Sweep interrupted writes, then rebuild the markers of ``stream`` (a media id) from its blobs."""
    report = RepairReport()
    in_flight = sweep_pending(store, stream, now_ms=now_ms, grace_ms=grace_ms, report=report)
    blobs: dict[str, FragmentRecord] = {}
    for info in store.list(keys.fragments_prefix(stream)):
        try:
            record = FragmentRecord.from_blob(stream, info.key, info.size)
        except ValueError:
            logger.warning("ignoring unexpected object", extra={"key": info.key})
            continue
        if info.key not in in_flight:
            blobs[info.key] = record
    markers = {timeline: set(_marker_keys(store, stream, timeline)) for timeline in keys.TIMELINES}
    marked = {
        FragmentRecord.from_marker(stream, timeline, key).blob_key
        for timeline, found in markers.items()
        for key in found
    }
    for blob_key, record in list(blobs.items()):
        if blob_key not in marked and not _claimed_by(store, record):
            store.delete(blob_key)
            del blobs[blob_key]
            report.orphan_blobs_removed += 1
    for timeline, found in markers.items():
        wanted = {record.marker_key(timeline) for record in blobs.values()}
        for key in found - wanted:
            if FragmentRecord.from_marker(stream, timeline, key).blob_key not in in_flight:
                store.delete(key)
                report.markers_removed += 1
        for key in sorted(wanted - found):
            store.put(key, b"")
            report.markers_added += 1
    report.fragments = len(blobs)
    return report


def sweep_pending(
    store: ObjectStore, stream: str, *, now_ms: int, grace_ms: int, report: RepairReport | None = None
) -> set[str]:
    """Finish or undo each interrupted write of ``stream``; returns the blob keys of those still in flight."""
    report = report if report is not None else RepairReport()
    in_flight: set[str] = set()
    for info in store.list(keys.pending_prefix(stream)):
        try:
            body = json.loads(store.get(info.key))
            record = FragmentRecord.from_blob(stream, body["blob"], int(body["size"]))
        except ObjectNotFound:
            continue  # its writer finished meanwhile
        except (ValueError, KeyError, TypeError):
            logger.warning("removing malformed pending record", extra={"key": info.key})
            store.delete(info.key)
            continue
        if _exists(store, record.marker_key(COMMIT_ORDER[-1])) and _exists(store, record.blob_key):
            store.delete(info.key)
            report.pending_finished += 1
        elif now_ms - int(body.get("written", 0)) < grace_ms:
            in_flight.add(record.blob_key)
            report.pending_in_flight += 1
        else:
            for timeline in reversed(COMMIT_ORDER):
                store.delete(record.marker_key(timeline))
            store.delete(record.blob_key)
            claim = str(body.get("claim", ""))
            if claim and _read(store, claim) == record.blob_key.encode():
                store.delete(claim)
            store.delete(info.key)
            report.pending_undone += 1
    return in_flight


def _marker_keys(store: ObjectStore, stream: str, timeline: str) -> list[str]:
    found = []
    listed = itertools.chain(
        store.list(keys.index_prefix(stream, timeline)), store.list(keys.legacy_index_prefix(stream, timeline))
    )
    for info in listed:
        try:
            FragmentRecord.from_marker(stream, timeline, info.key)
        except ValueError:
            logger.warning("ignoring malformed index marker", extra={"key": info.key})
            continue
        found.append(info.key)
    return found


def _claimed_by(store: ObjectStore, record: FragmentRecord) -> bool:
    """Whether the claim for this blob's bytes names this blob (reads the blob: only for unindexed blobs)."""
    data = _read(store, record.blob_key)
    if data is None:
        return False
    claim = keys.dedupe_key(record.stream, dedupe_digest(record.producer_ms, data))
    return _read(store, claim) == record.blob_key.encode()


def _exists(store: ObjectStore, key: str) -> bool:
    try:
        store.head(key)
    except ObjectNotFound:
        return False
    return True


def _read(store: ObjectStore, key: str) -> bytes | None:
    try:
        return store.get(key)
    except ObjectNotFound:
        return None
