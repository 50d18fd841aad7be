"""Crash-safe ingest on both stores: a crash at every write step, then a re-run of the same upload.

The crash is injected (a store wrapper that aborts at the n-th write), so every step is hit, not just the
ones a timer happens to land on; one test kills a real process with SIGKILL at each step (local store).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from stillframe.catalog import keys
from stillframe.catalog.fragments import FragmentIndex
from stillframe.catalog.keys import FragmentRecord
from stillframe.catalog.stream_record import StreamRecord
from stillframe.catalog.streams import StreamCatalog
from stillframe.domain.acks import AckEvent, FragmentAck
from stillframe.ingest.service import UploadClock, store_fragments
from stillframe.media.split import MediaFragment
from stillframe.storage.port import ObjectInfo, ObjectStore

T0_MS = 1_795_600_800_000
FRAGMENTS = 3
WRITES_PER_FRAGMENT = 6  # claim, pending, blob, producer marker, server marker, pending removed
LAMBDA_SRC = Path(__file__).resolve().parents[2] / "lambda_src"


class Crash(BaseException):
    """Stands for the process dying: nothing after it runs (BaseException, so no `except Exception` hides it)."""


class CrashingStore:
    """An ObjectStore that aborts at its n-th write (put, create or delete), before doing it."""

    def __init__(self, inner: ObjectStore, crash_at: int) -> None:
        self.inner = inner
        self.crash_at = crash_at
        self.writes = 0

    def _write(self) -> None:
        self.writes += 1
        if self.writes == self.crash_at:
            raise Crash()

    def put(self, key: str, data: bytes) -> None:
        self._write()
        self.inner.put(key, data)

    def create(self, key: str, data: bytes) -> None:
        self._write()
        self.inner.create(key, data)

    def delete(self, key: str) -> None:
        self._write()
        self.inner.delete(key)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def upload() -> list[MediaFragment]:
    """The same three fragments every time (the bytes are opaque to the catalog)."""
    return [
        MediaFragment(
            data=f"fragment {n} ".encode() * 50,
            pts_ms=n * 2000,
            offset_ms=n * 2000,
            duration_ms=2000,
            frame_count=50,
            width=64,
            height=48,
            codec="h264",
        )
        for n in range(FRAGMENTS)
    ]


def make_stream(store: ObjectStore) -> StreamRecord:
    catalog = StreamCatalog(store, region="us-east-1", account_id="000000000000", clock=lambda: T0_MS / 1000)
    return catalog.create("cam", retention_hours=10**6)


def run_upload(store: ObjectStore, stream: StreamRecord, received_ms: int) -> list[FragmentAck]:
    clock = UploadClock(received_ms=received_ms, producer_start_ms=T0_MS)
    return store_fragments(stream, upload(), clock, FragmentIndex(store))


def listing(store: ObjectStore, stream: StreamRecord, timeline: str) -> list[FragmentRecord]:
    return [record for _, record in FragmentIndex(store).scan(stream.media_id, timeline, 0, 10**13 - 1)]


def under(store: ObjectStore, prefix: str) -> list[ObjectInfo]:
    return list(store.list(prefix))


def assert_each_fragment_once_and_readable(store: ObjectStore, stream: StreamRecord) -> list[FragmentRecord]:
    datas = sorted(f.data for f in upload())
    index = FragmentIndex(store, blob_cache_bytes=0)
    server = listing(store, stream, "server")
    producer = listing(store, stream, "producer")
    assert sorted(r.number for r in server) == sorted(r.number for r in producer)
    assert len(server) == FRAGMENTS and len({r.number for r in server}) == FRAGMENTS
    assert sorted(index.blob(r) for r in server) == datas
    assert len(under(store, keys.fragments_prefix(stream.media_id))) == FRAGMENTS
    return server


@pytest.mark.parametrize("crash_at", range(1, FRAGMENTS * WRITES_PER_FRAGMENT + 1))
def test_a_crash_at_any_write_then_a_rerun_stores_each_fragment_once(store: ObjectStore, crash_at: int) -> None:
    # Given an upload that crashed just before its n-th write
    stream = make_stream(store)
    with pytest.raises(Crash):
        run_upload(CrashingStore(store, crash_at), stream, received_ms=T0_MS + 1000)
    # When the same upload is sent again, later
    acks = run_upload(store, stream, received_ms=T0_MS + 60_000)
    # Then every fragment is stored once, listed in both timelines, readable, and acked with its stored number
    listed = assert_each_fragment_once_and_readable(store, stream)
    assert [a.event_type for a in acks] == [AckEvent.PERSISTED] * FRAGMENTS
    assert sorted(str(a.number) for a in acks) == sorted(r.number for r in listed)
    assert under(store, keys.pending_prefix(stream.media_id)) == []
    # And a repair finds nothing to change and lists the same fragments
    report = FragmentIndex(store).reindex(stream.media_id, grace_ms=0)
    assert (report.fragments, report.markers_added, report.markers_removed, report.orphan_blobs_removed) == (
        FRAGMENTS,
        0,
        0,
        0,
    )
    assert listing(store, stream, "server") == listed


@pytest.mark.parametrize("crash_at", range(1, 2 * WRITES_PER_FRAGMENT + 1))
def test_a_crash_without_rerun_is_swept_by_reindex(store: ObjectStore, crash_at: int) -> None:
    # Given an upload that crashed just before its n-th write, and was never retried
    stream = make_stream(store)
    with pytest.raises(Crash):
        run_upload(CrashingStore(store, crash_at), stream, received_ms=T0_MS + 1000)
    complete = [r.number for r in listing(store, stream, "server")]
    # When reindex runs once the grace period has passed
    FragmentIndex(store).reindex(stream.media_id, grace_ms=0)
    # Then no pending record or orphan blob is left, and each blob listed in both timelines is readable
    assert under(store, keys.pending_prefix(stream.media_id)) == []
    server = listing(store, stream, "server")
    assert [r.number for r in server] == [r.number for r in listing(store, stream, "producer")]
    assert set(complete) <= {r.number for r in server}
    blobs = under(store, keys.fragments_prefix(stream.media_id))
    assert sorted(info.key for info in blobs) == sorted(r.blob_key for r in server)
    index = FragmentIndex(store, blob_cache_bytes=0)
    assert all(index.blob(r) for r in server)
    # And a re-run afterwards still stores each fragment once
    run_upload(store, stream, received_ms=T0_MS + 60_000)
    assert_each_fragment_once_and_readable(store, stream)


def test_an_interrupted_write_within_the_grace_period_is_left_alone(store: ObjectStore) -> None:
    # Given an upload cut short after its blob (claim, pending, blob written) moments ago
    stream = make_stream(store)
    with pytest.raises(Crash):
        run_upload(CrashingStore(store, 4), stream, received_ms=T0_MS + 1000)
    # When reindex runs with the default grace period (an upload may still be running)
    report = FragmentIndex(store).reindex(stream.media_id)
    # Then the write in flight is neither undone nor indexed
    assert report.pending_in_flight == 1 and report.fragments == 0
    assert len(under(store, keys.fragments_prefix(stream.media_id))) == 1
    assert listing(store, stream, "server") == []


def test_an_orphan_blob_of_an_older_release_is_removed_by_reindex(store: ObjectStore) -> None:
    # Given a complete fragment, and a blob that an older release wrote before crashing (no claim, no marker)
    stream = make_stream(store)
    run_upload(store, stream, received_ms=T0_MS + 1000)
    orphan = FragmentRecord(stream.media_id, "17956008010000000000042", T0_MS + 500, T0_MS, 2000, 5)
    store.put(orphan.blob_key, b"stale")
    # When reindex runs
    report = FragmentIndex(store).reindex(stream.media_id, grace_ms=0)
    # Then the orphan is gone and the complete fragments stay listed and readable
    assert report.orphan_blobs_removed == 1
    assert_each_fragment_once_and_readable(store, stream)


KILLER = """
import os, signal, sys
from stillframe.storage.local import LocalDirectoryStore
from tests.integration.test_crash_safe_ingest import T0_MS, make_stream, run_upload

class Killed(LocalDirectoryStore):
    writes = 0
    def _step(self):
        Killed.writes += 1
        if Killed.writes == int(sys.argv[2]):
            os.kill(os.getpid(), signal.SIGKILL)
    def _install(self, *args, **kwargs):
        self._step()  # the temp file is written: a kill here leaves it behind
        return super()._install(*args, **kwargs)
    def delete(self, key):
        self._step()
        return super().delete(key)

store = Killed(sys.argv[1])
run_upload(store, make_stream(store), received_ms=T0_MS + 1000)
"""


@pytest.mark.parametrize("kill_at", range(2, FRAGMENTS * WRITES_PER_FRAGMENT + 2))
def test_kill_9_at_each_write_then_rerun_on_the_local_store(tmp_path: Path, kill_at: int) -> None:
    from stillframe.storage.local import LocalDirectoryStore

    # Given a process killed with SIGKILL at its n-th write (write 1 is the stream record)
    root = tmp_path / "data"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(LAMBDA_SRC), str(LAMBDA_SRC.parent)])}
    child = subprocess.run([sys.executable, "-c", KILLER, str(root), str(kill_at)], env=env, check=False)
    assert child.returncode == -signal.SIGKILL
    # When the store is opened again and the same upload is re-run
    store = LocalDirectoryStore(root)
    assert list((root / "tmp").iterdir()) == []  # the killed writer's temp files are swept at open
    stream = StreamCatalog(store, region="us-east-1", account_id="000000000000").find("cam")
    run_upload(store, stream, received_ms=T0_MS + 60_000)
    # Then every fragment is stored once and readable, and reindex lists the same fragments
    listed = assert_each_fragment_once_and_readable(store, stream)
    FragmentIndex(store).reindex(stream.media_id, grace_ms=0)
    assert listing(store, stream, "server") == listed


def test_the_reindex_command_repairs_either_store(store: ObjectStore, capsys: pytest.CaptureFixture[str]) -> None:
    from stillframe.cli.main import main
    from stillframe.storage.local import LocalDirectoryStore

    # Given an upload that crashed after the blob of its second fragment, never retried
    stream = make_stream(store)
    with pytest.raises(Crash):
        run_upload(CrashingStore(store, WRITES_PER_FRAGMENT + 4), stream, received_ms=T0_MS + 1000)
    # When `stillframe reindex` runs on that store (a data dir, or a bucket and prefix)
    where = (
        ["--data-dir", str(store.root)]
        if isinstance(store, LocalDirectoryStore)
        else ["--bucket", store.bucket, "--prefix", store.prefix]  # type: ignore[attr-defined]
    )
    status = main(["reindex", *where, "--stream", "cam", "--grace-seconds", "0"])
    # Then the interrupted write is undone, and what is listed is exactly what is stored
    assert status == 0
    assert "reindexed stream cam: 1 fragments (pending undone 1)" in capsys.readouterr().out
    assert under(store, keys.pending_prefix(stream.media_id)) == []
    assert [r.blob_key for r in listing(store, stream, "producer")] == [
        info.key for info in under(store, keys.fragments_prefix(stream.media_id))
    ]
