"""The local directory adapter's own guarantees: layout, key limits, crash safety, concurrency."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from stillframe.errors import ObjectNotFound
from stillframe.storage.local import LocalDirectoryStore
from stillframe.storage.port import ObjectInfo

LAMBDA_SRC = Path(__file__).resolve().parents[3] / "lambda_src"


@pytest.fixture
def store(tmp_path: Path) -> LocalDirectoryStore:
    return LocalDirectoryStore(tmp_path / "data")


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


# -- layout and keys ------------------------------------------------------------------------


def test_dot_segments_stay_inside_the_objects_directory(tmp_path: Path) -> None:
    # Given a store inside tmp_path/data
    store = LocalDirectoryStore(tmp_path / "data")
    # When keys made of "." and ".." segments are written
    store.put("../../escape", b"1")
    store.put("streams/../x", b"2")
    store.put("./.", b"3")
    # Then every file is under data/objects, with the dot segments encoded
    assert files_under(tmp_path) == sorted(
        ["data/objects/%2E%2E/%2E%2E/escape", "data/objects/streams/%2E%2E/x", "data/objects/%2E/%2E"]
    )


def test_a_key_cannot_also_be_a_directory(store: LocalDirectoryStore) -> None:
    # Given "a/b" exists
    store.put("a/b", b"1")
    # When "a" is written (S3 allows it; a filesystem cannot)
    # Then a ValueError explains the clash and "a/b" is untouched
    with pytest.raises(ValueError, match="prefix directory"):
        store.put("a", b"2")
    with pytest.raises(ValueError, match="prefix directory"):
        store.create("a", b"2")
    assert store.get("a/b") == b"1"


def test_a_directory_cannot_be_made_where_an_object_is(store: LocalDirectoryStore) -> None:
    # Given "a" exists
    store.put("a", b"1")
    # When "a/b" is written
    # Then a ValueError explains the clash
    with pytest.raises(ValueError, match="prefix directory"):
        store.put("a/b", b"2")
    assert store.get("a") == b"1"


def test_reading_a_directory_key_is_not_found(store: LocalDirectoryStore) -> None:
    # Given "a/b" exists (so "a" is a directory on disk)
    store.put("a/b", b"1")
    # When "a" or "a/b/c" is read, sized or deleted
    # Then they are simply absent objects
    for key in ("a", "a/b/c"):
        with pytest.raises(ObjectNotFound):
            store.get(key)
        with pytest.raises(ObjectNotFound):
            store.head(key)
        store.delete(key)
    assert store.get("a/b") == b"1"


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("/".join(["x" * 200] * 6), "limit is 1024"),
        ("bad\udc80surrogate", "lone surrogate"),
        ("a//b", "empty segment"),
    ],
)
def test_keys_that_cannot_be_stored_raise_value_error(store: LocalDirectoryStore, key: str, message: str) -> None:
    # Given a key the local store cannot hold
    # When it is written
    # Then a ValueError names the problem
    with pytest.raises(ValueError, match=message):
        store.put(key, b"x")


def test_segments_longer_than_a_file_name_are_stored_listed_in_order_and_deleted(store: LocalDirectoryStore) -> None:
    # Given keys whose segments pass 255 bytes (ASCII, escaped "%", two-byte UTF-8, a trailing "..") beside keys
    # that share their first 253 bytes and sort before or after them
    segments = ["A" * 256, "A" * 253 + "0", "A" * 253 + "x", "A" * 253 + "..", "%" * 90, "é" * 200, "A" * 600]
    keys = [f"{top}/{segment}{tail}" for segment in segments for top, tail in (("s", ".json"), ("m", "/1/f"))]
    # When they are written
    for key in keys:
        store.put(key, key.encode())
    # Then each reads back, listings are in key order (whole, by prefix, after a cursor), and deletes leave nothing
    ordered = sorted(keys, key=str.encode)
    assert [info.key for info in store.list("")] == ordered
    assert all(store.get(key) == key.encode() for key in keys)
    assert [info.key for info in store.list("s/" + "A" * 254)] == [
        "s/" + "A" * 256 + ".json",
        "s/" + "A" * 600 + ".json",
    ]
    assert [info.key for info in store.list("m/" + "A" * 256 + "/")] == ["m/" + "A" * 256 + "/1/f"]
    assert [info.key for info in store.list("", start_after=ordered[3])] == ordered[4:]
    with pytest.raises(ValueError, match="limit is 1024"):
        store.put("s/" + "A" * 1100, b"x")
    for key in keys:
        store.delete(key)
    assert list((store.root / "objects").iterdir()) == []


def test_deletes_prune_empty_directories(store: LocalDirectoryStore) -> None:
    # Given a deep key next to a shallow one
    store.put("s/cam/index/server/1", b"")
    store.put("s/keep", b"")
    # When the deep key is deleted
    store.delete("s/cam/index/server/1")
    # Then its now-empty directories are gone, the shared parent stays
    assert not (store.root / "objects" / "s" / "cam").exists()
    assert (store.root / "objects" / "s" / "keep").is_file()


def test_empty_leftover_directories_neither_list_nor_block_writes(store: LocalDirectoryStore) -> None:
    # Given empty directories left in the objects tree (e.g. by a crash between delete and prune)
    (store.root / "objects" / "x" / "y" / "z").mkdir(parents=True)
    (store.root / "objects" / "w").mkdir()
    store.put("v", b"1")
    # When listing, and when writing keys where the empty directories are
    # Then listing ignores them and the writes replace them
    assert [i.key for i in store.list("")] == ["v"]
    store.put("x", b"2")
    store.create("w", b"3")
    assert [i.key for i in store.list("")] == ["v", "w", "x"]


# -- listing cost ---------------------------------------------------------------------------


def test_list_reads_only_the_prefix_subtree(store: LocalDirectoryStore, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given two streams with index markers
    for name in ("cam1", "cam2"):
        for ms in (0, 1000, 2000):
            store.put(f"streams/{name}/index/server/{ms:013d}.1000.{ms}", b"")
        store.put(f"streams/{name}/stream.json", b"{}")
    scanned: list[str] = []
    real_scandir = os.scandir

    def spy(path):  # type: ignore[no-untyped-def]
        scanned.append(str(Path(path).relative_to(store.root / "objects")))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", spy)
    # When one stream's index is listed by a partial prefix
    found = [i.key for i in store.list("streams/cam1/index/server/00000000010")]
    # Then only that index directory was read
    assert found == ["streams/cam1/index/server/0000000001000.1000.1000"]
    assert scanned == ["streams/cam1/index/server"]


def test_list_skips_subtrees_before_start_after(store: LocalDirectoryStore, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given several "directories"
    for d in ("a", "b", "c"):
        store.put(f"{d}/1", b"")
        store.put(f"{d}/2", b"")
    scanned: list[str] = []
    real_scandir = os.scandir

    def spy(path):  # type: ignore[no-untyped-def]
        scanned.append(Path(path).name)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", spy)
    # When listing resumes inside "b"
    found = [i.key for i in store.list("", start_after="b/1")]
    # Then "a" is never opened and the listing is right
    assert found == ["b/2", "c/1", "c/2"]
    assert "a" not in scanned


# -- crash safety ---------------------------------------------------------------------------

WRITER = """
import sys
from stillframe.storage.local import LocalDirectoryStore
store = LocalDirectoryStore(sys.argv[1])
size = int(sys.argv[2])
store.put("obj", bytes([1]) * size)
print("ready", flush=True)
i = 2
while True:
    store.put("obj", bytes([i % 256]) * size)
    store.put("fresh-%d" % i, bytes([i % 256]) * size)
    i += 1
"""


def test_a_killed_writer_leaves_objects_absent_or_whole(tmp_path: Path) -> None:
    # Given a process that keeps writing 4 MB objects
    root = tmp_path / "data"
    size = 4 * 1024 * 1024
    env = {**os.environ, "PYTHONPATH": str(LAMBDA_SRC)}
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(root), str(size)], stdout=subprocess.PIPE, env=env)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == b"ready"
        # When it is killed while a temp file is being written
        _wait_for_temp_file(root / "tmp")
        child.send_signal(signal.SIGKILL)
        child.wait()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    # Then every listed object is whole, and temp files are never listed
    store = LocalDirectoryStore(root)
    listed = list(store.list(""))
    assert ObjectInfo("obj", size) in listed
    for info in listed:
        data = store.get(info.key)
        assert len(data) == size and data == data[:1] * size, info.key
    assert all(not name.startswith("w-") for name in (i.key for i in listed))


def _wait_for_temp_file(tmp_dir: Path) -> None:
    """Block until the writer has a temp file on disk (so the kill lands mid-write); not a timing assert."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if any(tmp_dir.iterdir()):
            return
        time.sleep(0.001)
    pytest.fail("the writer never started a write")


def test_stale_temp_files_are_swept_and_fresh_ones_kept(tmp_path: Path) -> None:
    # Given a temp file left two days ago by a killed writer, and one being written now
    LocalDirectoryStore(tmp_path)
    stale = tmp_path / "tmp" / "w-stale"
    fresh = tmp_path / "tmp" / "w-fresh"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(stale, (two_days_ago, two_days_ago))
    # When the store is opened again
    LocalDirectoryStore(tmp_path)
    # Then only the stale one is removed
    assert not stale.exists()
    assert fresh.exists()


# -- concurrency ----------------------------------------------------------------------------


def test_writes_survive_concurrent_deletes_pruning_their_directory(store: LocalDirectoryStore) -> None:
    # Given one thread that keeps creating and deleting a sibling (so the directory is pruned and remade)
    stop = threading.Event()
    errors: list[BaseException] = []

    def churn() -> None:
        try:
            while not stop.is_set():
                store.put("d/e/sibling", b"s")
                store.delete("d/e/sibling")
        except BaseException as exc:  # surfaced by the assert below
            errors.append(exc)

    churner = threading.Thread(target=churn)
    churner.start()
    # When another thread writes and reads keys in that same directory meanwhile
    try:
        for i in range(200):
            store.put(f"d/e/k{i % 5}", str(i).encode())
            assert store.get(f"d/e/k{i % 5}") == str(i).encode()
    finally:
        stop.set()
        churner.join()
    # Then no write failed and the last writes are all there
    assert errors == []
    assert [i.key for i in store.list("d/e/k")] == [f"d/e/k{n}" for n in range(5)]
