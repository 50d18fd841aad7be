"""ListStreams over many streams: records come from the summaries cache only while the listing says they are current.

Two ``StreamCatalog`` instances over one store stand for two processes (a warm Lambda and a cold one, or serve and
another writer). Store reads are counted: they are what makes a cold ListStreams of 10,000 streams slow on S3.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from stillframe.catalog.keys import STREAM_SUMMARIES_KEY
from stillframe.catalog.stream_updates import StreamUpdates
from stillframe.catalog.streams import StreamCatalog
from stillframe.domain.requests import StreamRef
from stillframe.domain.stream_requests import ListStreamsRequest
from stillframe.domain.token import TokenCodec
from stillframe.operations.list_streams import list_streams
from stillframe.storage.local import LocalDirectoryStore

TOKENS = TokenCodec(b"test-secret")


class CountingStore(LocalDirectoryStore):
    """The local store, counting whole-object reads of stream records."""

    record_gets = 0

    def get(self, key: str) -> bytes:
        if key.startswith("streams/"):
            self.record_gets += 1
        return super().get(key)


@pytest.fixture
def store(tmp_path: Path) -> CountingStore:
    return CountingStore(tmp_path / "data")


def catalog(store: CountingStore) -> StreamCatalog:
    return StreamCatalog(store, region="us-east-1", account_id="123456789012")


def listed(streams: StreamCatalog, **request: Any) -> tuple[list[dict[str, Any]], str | None]:
    answer = list_streams(ListStreamsRequest.model_validate(request), streams=streams, tokens=TOKENS)
    return answer["StreamInfoList"], answer.get("NextToken")


def make(store: CountingStore, count: int) -> StreamCatalog:
    writer = catalog(store)
    for number in range(count):
        writer.create(f"cam-{number:03d}", retention_hours=1)
    return writer


def test_a_second_listing_reads_no_records(store: CountingStore) -> None:
    # Given 100 streams listed once by one process
    streams = make(store, 100)
    first, _ = listed(streams)
    reads = store.record_gets
    # When the same process lists them again
    again, _ = listed(streams)
    # Then the answer is the same and no record was read again
    assert [s["StreamName"] for s in again] == [f"cam-{n:03d}" for n in range(100)]
    assert again == first
    assert reads == 100 and store.record_gets == 100


def test_a_cold_process_reads_the_saved_summaries_not_each_record(store: CountingStore) -> None:
    # Given 100 streams listed by one process (which saves the summaries)
    first, _ = listed(make(store, 100))
    store.record_gets = 0
    # When a new process lists them
    cold, _ = listed(catalog(store))
    # Then it answers the same from the saved summaries, reading none of the records
    assert cold == first
    assert store.record_gets == 0


def test_a_record_changed_by_another_process_is_read_again(store: CountingStore) -> None:
    # Given a process that has listed 50 streams
    reader = catalog(store)
    writer = make(store, 50)
    listed(reader)
    # When another process changes one stream's retention
    old = writer.find("cam-007")
    StreamUpdates(store, writer).update(StreamRef("cam-007", None), lambda r: replace(r, retention_hours=6))
    store.record_gets = 0
    # Then the reader's next listing shows the change, reading exactly that record
    infos, _ = listed(reader)
    changed = next(s for s in infos if s["StreamName"] == "cam-007")
    assert changed["DataRetentionInHours"] == 6 and changed["Version"] != old.version
    assert store.record_gets == 1


def test_deleted_and_created_streams_show_at_once_in_a_warm_process(store: CountingStore) -> None:
    # Given a process that has listed 40 streams
    reader = catalog(store)
    writer = make(store, 40)
    listed(reader)
    # When another process deletes one and creates one
    writer.delete(writer.find("cam-010").arn)
    writer.create("cam-new", retention_hours=1)
    # Then the warm reader lists neither the deleted stream nor misses the new one
    names = [s["StreamName"] for s in listed(reader)[0]]
    assert "cam-010" not in names and "cam-new" in names and len(names) == 40


def test_damaged_saved_summaries_only_cost_reads(store: CountingStore) -> None:
    # Given saved summaries that are not JSON
    first, _ = listed(make(store, 80))
    store.put(STREAM_SUMMARIES_KEY, b"\x00 not json")
    store.record_gets = 0
    # When a new process lists the streams
    cold, _ = listed(catalog(store))
    # Then it answers correctly by reading the records
    assert cold == first
    assert store.record_gets == 80


def test_a_page_out_of_time_ends_early_with_a_token_that_continues(store: CountingStore) -> None:
    # Given 300 streams that no process has listed yet, and a listing with no time left
    make(store, 300)
    request = ListStreamsRequest.model_validate({})
    # When a cold process lists them with a zero time budget
    answer = list_streams(request, streams=catalog(store), tokens=TOKENS, budget_s=0)
    # Then the page stops after its first batch with a NextToken, and following it lists the rest exactly once
    first = [s["StreamName"] for s in answer["StreamInfoList"]]
    assert 0 < len(first) < 300 and "NextToken" in answer
    rest, token = listed(catalog(store), NextToken=answer["NextToken"])
    assert token is None
    assert first + [s["StreamName"] for s in rest] == [f"cam-{n:03d}" for n in range(300)]
