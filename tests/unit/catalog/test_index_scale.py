"""The fragment index at any history: sharded markers, lookups that open only what they need, migration."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from stillframe.catalog import keys
from stillframe.catalog.fragments import FragmentIndex
from stillframe.catalog.keys import FragmentRecord
from stillframe.storage.local import LocalDirectoryStore

DAY_MS = 86_400_000


@pytest.fixture
def store(tmp_path: Path) -> LocalDirectoryStore:
    return LocalDirectoryStore(tmp_path)


def put_marked(
    store: LocalDirectoryStore, start_ms: int, number: int, timelines: tuple[str, ...] = keys.TIMELINES
) -> FragmentRecord:
    """Markers only (no blob): enough for the lookups under test, cheap to make by the thousand."""
    record = FragmentRecord("cam", f"{number:06d}", start_ms, start_ms, 2000, 1)
    for timeline in timelines:
        store.put(record.marker_key(timeline), b"")
    return record


def test_marker_keys_sort_in_time_order_across_shards() -> None:
    starts = [0, 999_999, 1_000_000, 999_999_999, 1_000_000_000, 1_795_600_800_000]
    markers = [FragmentRecord("cam", "1", ms, ms, 2000, 1).marker_key("server") for ms in starts]
    assert sorted(markers, key=lambda k: k.encode()) == markers
    assert markers[-1] == "media/cam/markers/server/1795/600/1795600800000.2000.1.1795600800000.1"


def test_a_lookup_opens_only_the_shards_it_needs(store: LocalDirectoryStore, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given fragments every 2 s over 20 days, spread over many shards (sparse: 80 s of each day)
    t0 = 1_795_600_800_000
    for day in range(20):
        for n in range(40):
            put_marked(store, t0 + day * DAY_MS + n * 2000, day * 1000 + n, ("server",))
    opened: list[str] = []
    real_scandir = os.scandir

    def spy(path: Any) -> Any:
        opened.append(str(Path(path).relative_to(store.root / "objects")))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", spy)
    # When a minute in the middle of day 15 is looked up
    start = t0 + 15 * DAY_MS + 10_000
    found = list(FragmentIndex(store).scan("cam", "server", start, start + 60_000))
    # Then it finds the 31 fragments of that minute, having opened the timeline's directory, one top shard and
    # the one or two shards holding the minute: never the whole history
    assert [r.server_ms for _, r in found] == [start + 2000 * i for i in range(31)]
    shards = [p for p in opened if p.count("/") == 5]
    assert 1 <= len(shards) <= 2, opened
    assert len(opened) <= 5, opened


def test_paging_by_after_key_seeks_instead_of_filtering(store: LocalDirectoryStore) -> None:
    # Given 1,000 fragments
    records = [put_marked(store, 1_000_000 + i * 2000, i, ("producer",)) for i in range(1000)]
    index = FragmentIndex(store)
    # When the whole range is paged through 100 at a time, each page resuming after the last key
    seen: list[FragmentRecord] = []
    after = ""
    while True:
        page = []
        for key, record in index.scan("cam", "producer", 0, 10**13 - 1, after_key=after, expected=101):
            page.append(record)
            after = key
            if len(page) == 100:
                break
        seen += page
        if len(page) < 100:
            break
    # Then every fragment is seen once, in order
    assert [r.number for r in seen] == [r.number for r in records]


def test_reindex_moves_markers_of_the_flat_layout_into_shards(store: LocalDirectoryStore) -> None:
    # Given a fragment stored by an earlier release: blob, claim and flat markers under index/
    index = FragmentIndex(store)
    record = FragmentRecord("cam", "1", 1_795_600_800_007, 1_795_600_800_000, 2000, 3)
    index.add(record, b"abc")
    for timeline in keys.TIMELINES:
        store.delete(record.marker_key(timeline))
        store.put(keys.legacy_index_prefix("cam", timeline) + record.marker_key(timeline).rsplit("/", 1)[1], b"")
    assert list(index.scan("cam", "server", 0, 10**13 - 1)) == []
    # When reindex runs
    report = index.reindex("cam", grace_ms=0)
    # Then the fragment is found in both timelines again and the flat markers are gone
    assert (report.markers_added, report.markers_removed) == (2, 2)
    for timeline in keys.TIMELINES:
        assert [r for _, r in index.scan("cam", timeline, 0, 10**13 - 1)] == [record]
        assert list(store.list(keys.legacy_index_prefix("cam", timeline))) == []


def test_a_get_images_page_lookup_is_one_listing_sized_to_the_page(store: LocalDirectoryStore) -> None:
    # Given a stream with fragments every 2 s for an hour, and a store that counts listings
    for i in range(1800):
        put_marked(store, 1_000_000 + i * 2000, i, ("server",))
    calls: list[int | None] = []

    class Counting:
        def list(self, prefix: str, start_after: str = "", limit: int | None = None) -> Any:
            calls.append(limit)
            return store.list(prefix, start_after, limit)

    # When the candidates of a 25-sample page at the default 3 s interval are looked up
    start = 1_000_000 + 1000 * 2000
    found = FragmentIndex(Counting()).covering_candidates("cam", "server", start, start + 72_000)  # type: ignore[arg-type]
    # Then one listing (on S3: one request) of about the page's fragments did it
    assert len(found) == 47
    assert len(calls) == 1 and calls[0] is not None and 47 <= calls[0] <= 100


def test_a_short_list_fragments_range_asks_for_about_its_own_fragments(store: LocalDirectoryStore) -> None:
    # Given a stream with fragments every 2 s for an hour, and a store that records the listing sizes asked for
    for i in range(1800):
        put_marked(store, 1_000_000 + i * 2000, i, ("producer",))
    limits: list[int | None] = []

    class Counting:
        def list(self, prefix: str, start_after: str = "", limit: int | None = None) -> Any:
            limits.append(limit)
            return store.list(prefix, start_after, limit)

    # When ListFragments asks for a 60 s range with MaxResults 1000 (the index is told to expect 1001)
    start = 1_000_000 + 900 * 2000
    scan = FragmentIndex(Counting()).scan("cam", "producer", start, start + 60_000, expected=1001)  # type: ignore[arg-type]
    found = [record for _, record in scan]
    # Then it finds the range's 31 fragments with one listing of about a key per second (on S3, MaxKeys), not 1001
    assert len(found) == 31
    assert len(limits) == 1 and limits[0] is not None and limits[0] <= 62
