"""Streams and the fragment index over the local store: keys, ordering, dedupe, delete, reindex."""

from __future__ import annotations

import pytest

from stillframe.catalog.fragments import FragmentIndex
from stillframe.catalog.keys import FragmentRecord
from stillframe.catalog.streams import StreamCatalog
from stillframe.errors import ResourceInUseError, ResourceNotFoundError, VersionMismatchError
from stillframe.storage.local import LocalDirectoryStore


@pytest.fixture
def store(tmp_path):
    return LocalDirectoryStore(tmp_path)


@pytest.fixture
def streams(store):
    return StreamCatalog(store, region="eu-west-1", account_id="123456789012", clock=lambda: 1_795_600_800.5)


def record(number: str, producer_ms: int, duration_ms: int = 2000, stream: str = "cam") -> FragmentRecord:
    return FragmentRecord(stream, number, producer_ms + 7, producer_ms, duration_ms, 42)


def test_marker_and_blob_keys_round_trip():
    frag = record("1795600800000000010123456", 1_795_600_800_000)
    for timeline in ("server", "producer"):
        assert FragmentRecord.from_marker("cam", timeline, frag.marker_key(timeline)) == frag
    assert FragmentRecord.from_blob("cam", frag.blob_key, 42) == frag


def test_create_find_and_arn(streams):
    created = streams.create("cam", retention_hours=2)
    assert created.arn == "arn:aws:kinesisvideo:eu-west-1:123456789012:stream/cam/1795600800500"
    assert streams.find("cam", created.arn) == created
    with pytest.raises(ResourceNotFoundError):
        streams.find("cam", created.arn.replace("800500", "800501"))
    with pytest.raises(ResourceInUseError):
        streams.create("cam")


def test_list_streams_does_not_see_media(streams, store):
    for name in ("b", "a", "a.b"):
        streams.create(name)
    FragmentIndex(store).add(record("1", 1000, stream="a"), b"x" * 42)
    assert sorted(r.name for r in streams.list()) == ["a", "a.b", "b"]
    assert [r.name for r in streams.list(begins_with="a.")] == ["a.b"]


def test_delete_removes_media_and_checks_version(streams, store):
    created = streams.create("cam")
    FragmentIndex(store).add(record("1", 1000, stream=created.media_id), b"x" * 42)
    with pytest.raises(VersionMismatchError):
        streams.delete(created.arn, "wrong")
    assert streams.delete(created.arn, created.version) is True
    assert list(store.list("")) == []


def test_a_recreated_stream_starts_empty_even_if_old_media_remains(streams, store):
    # Given a stream deleted with no time to remove its media (the lifecycle rule will)
    old = streams.create("cam")
    FragmentIndex(store).add(record("1", 1000, stream=old.media_id), b"x" * 42)
    assert streams.delete(old.arn, budget_s=-1) is False
    assert len(list(store.list(old.media_id.join(["media/", "/"])))) == 4
    # When a stream of the same name is created again (later)
    later = StreamCatalog(store, region="eu-west-1", account_id="123456789012", clock=lambda: 1_795_600_900.0)
    new = later.create("cam")
    # Then it sees none of the old fragments
    assert new.media_id != old.media_id
    assert list(FragmentIndex(store).scan(new.media_id, "server", 0, 10**12)) == []


def test_scan_finds_fragments_by_start_in_time_order(store):
    index = FragmentIndex(store)
    for number, start in (("3", 30_000), ("1", 9_999), ("2", 10_000), ("4", 200_000)):
        index.add(record(number, start), b"x" * 42)
    found = [r.number for _, r in index.scan("cam", "producer", 10_000, 30_000)]
    assert found == ["2", "3"]
    assert [r.number for r in index.covering_candidates("cam", "producer", 25_000, 30_000)] == ["1", "2", "3"]


def test_dedupe_and_reindex(store):
    index = FragmentIndex(store)
    frag = record("1", 1000)
    assert index.existing("cam", 1000, b"m" * 42) is None
    index.add(frag, b"m" * 42)
    assert index.existing("cam", 1000, b"m" * 42) == frag
    assert index.existing("cam", 1001, b"m" * 42) is None
    for timeline in ("server", "producer"):
        store.delete(frag.marker_key(timeline))
    assert index.reindex("cam").fragments == 1
    assert [r for _, r in index.scan("cam", "server", 0, 10**12)] == [frag]


def test_delete_frees_the_name_at_once_and_a_later_purge_removes_what_was_left(streams, store):
    # Given a stream deleted with no time to remove its media
    old = streams.create("cam")
    index = FragmentIndex(store)
    for n in range(3):
        index.add(record(str(n), 1000 + n * 2000, stream=old.media_id), b"x%d" % n)
    assert streams.delete(old.arn, budget_s=-1) is False
    # Then the name is free at once and the stream is not found
    with pytest.raises(ResourceNotFoundError):
        streams.find("cam")
    # When a later purge runs (another DeleteStream does, and `stillframe reindex --all`)
    assert streams.purge_deleted() == 1
    # Then the old media and its purge record are gone
    assert list(store.list("media/")) == [] and list(store.list("purge/")) == []


def test_delete_removes_media_in_batches(streams, store, monkeypatch):
    # Given a stream with 2,500 media objects, and a store that counts batch deletes
    created = streams.create("cam")
    for n in range(2500):
        store.put(f"media/{created.media_id}/fragments/{n:05d}.1.1.1.mkv", b"")
    batches: list[int] = []
    real = store.delete_many
    monkeypatch.setattr(store, "delete_many", lambda keys: (batches.append(len(keys)), real(keys)))
    # When it is deleted
    assert streams.delete(created.arn) is True
    # Then three batch deletes (at most 1000 keys each: one S3 DeleteObjects each) removed everything
    assert batches == [1000, 1000, 500]
    assert list(store.list("")) == []


def test_list_streams_reads_records_in_batches_and_keeps_key_order(streams):
    # Given more streams than one read batch, named out of order
    names = [*[f"cam-{n:03d}" for n in range(300)][::-1], "other"]
    for name in names:
        streams.create(name)
    # When they are listed, all or by prefix, or after a cursor
    # Then every record comes once, in key order
    assert [r.name for r in streams.list()] == sorted(names)
    assert [r.name for r in streams.list(begins_with="cam-")] == sorted(names)[:300]
    assert [r.name for r in streams.list(start_after="streams/cam-297.json")] == ["cam-298", "cam-299", "other"]
