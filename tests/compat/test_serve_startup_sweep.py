"""`stillframe serve` sweeps crash leftovers once at start, in the background, as `stillframe reindex` would."""

from __future__ import annotations

import time
from pathlib import Path

from stillframe.catalog import keys
from stillframe.catalog.fragments import pending_body
from stillframe.catalog.keys import FragmentRecord
from stillframe.catalog.streams import StreamCatalog
from stillframe.storage.local import LocalDirectoryStore
from tests.support.serve import serve_process

HOUR_MS = 3_600_000


def interrupted_write(store: LocalDirectoryStore, media_id: str, number: str, written_ms: int) -> FragmentRecord:
    """What a crash after the blob and the producer marker leaves: a pending record, no server marker."""
    record = FragmentRecord(media_id, number, written_ms, written_ms, 2000, 3)
    claim = keys.dedupe_key(media_id, number * 4)
    store.put(claim, record.blob_key.encode())
    store.put(keys.pending_key(media_id, number), pending_body(record, claim, written_ms))
    store.put(record.blob_key, b"abc")
    store.put(record.marker_key("producer"), b"")
    return record


def test_serve_finishes_old_interrupted_writes_and_deleted_streams_at_start(tmp_path: Path) -> None:
    # Given a store with a write interrupted two hours ago, one interrupted just now (an upload may still run),
    # and the media of a stream whose DeleteStream ran out of time
    store = LocalDirectoryStore(tmp_path)
    catalog = StreamCatalog(store, region="us-east-1", account_id="000000000000")
    cam = catalog.create("cam", retention_hours=1)
    now_ms = int(time.time() * 1000)
    old = interrupted_write(store, cam.media_id, "1", now_ms - 2 * HOUR_MS)
    young = interrupted_write(store, cam.media_id, "2", now_ms)
    gone = catalog.create("gone", retention_hours=1)
    store.put(keys.fragments_prefix(gone.media_id) + "9.1.1.2000.mkv", b"abc")
    store.put(keys.purge_key(gone.media_id), b"")
    store.delete(keys.stream_record_key("gone"))
    # When serve starts over it
    with serve_process("--data-dir", str(tmp_path)) as (_, _, process):
        assert process.stdout is not None
        line = process.stdout.readline().strip()
    # Then it says what it swept, the old write is undone, the young one left alone, the deleted media gone
    assert line == (
        "start-up sweep: 1 streams in " + line.split(" in ", 1)[1].split(" s;")[0] + " s; interrupted writes "
        "finished 0, undone 1, left in flight 1; deleted streams' media finished 1"
    )
    remaining = {info.key for info in store.list("")}
    assert old.blob_key not in remaining and keys.pending_key(cam.media_id, "1") not in remaining
    assert {young.blob_key, keys.pending_key(cam.media_id, "2")} <= remaining
    assert not any(key.startswith((keys.media_prefix(gone.media_id), keys.PURGE_PREFIX)) for key in remaining)
