"""Two processes writing one stream record: conditional writes keep both changes, and a deleted stream stays deleted.

Process B is a real second process (its own record locks, as another Lambda or `stillframe serve` has) that makes its
change at the worst moment: after process A has read the record and before A writes it back.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from stillframe.catalog.stream_record import StreamRecord
from stillframe.catalog.stream_updates import StreamUpdates
from stillframe.catalog.streams import StreamCatalog
from stillframe.domain.requests import StreamRef
from stillframe.errors import ResourceNotFoundError
from stillframe.storage.local import LocalDirectoryStore

# Process B: waits for a line on stdin, makes its change to stream "cam", answers "done".
_PROCESS_B = """
import sys
from stillframe.catalog.stream_updates import StreamUpdates
from stillframe.catalog.streams import StreamCatalog
from stillframe.domain.requests import StreamRef
from stillframe.storage.local import LocalDirectoryStore

store = LocalDirectoryStore(sys.argv[1])
streams = StreamCatalog(store, region="us-east-1", account_id="123456789012")
sys.stdin.readline()
if sys.argv[2] == "delete":
    streams.delete(streams.find("cam").arn)
else:
    StreamUpdates(store, streams).tag(StreamRef("cam", None), {"site": "north"})
print("done", flush=True)
"""


def catalog(root: Path) -> StreamCatalog:
    return StreamCatalog(LocalDirectoryStore(root), region="us-east-1", account_id="123456789012")


def in_other_process(root: Path, action: str) -> Callable[[], None]:
    """Start process B now, waiting; calling the result lets B do ``action`` and waits until it is done."""
    child = subprocess.Popen(
        [sys.executable, "-c", _PROCESS_B, str(root), action], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert child.stdin is not None and child.stdout is not None

    def trigger() -> None:
        child.stdin.write("go\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "done", "process B failed"
        assert child.wait(30) == 0

    return trigger


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "data"


def test_an_update_racing_a_delete_does_not_bring_the_stream_back(root: Path) -> None:
    # Given a stream, and process B ready to delete it
    streams = catalog(root)
    streams.create("cam", retention_hours=1)
    b_deletes = in_other_process(root, "delete")
    updates = StreamUpdates(streams._store, streams)

    def change(record: StreamRecord) -> StreamRecord:
        b_deletes()  # B deletes the stream after A read it
        return replace(record, retention_hours=48)

    # When A's retention change is written back after B's delete
    # Then A is told the stream is gone, and the stream stays deleted
    with pytest.raises(ResourceNotFoundError):
        updates.update(StreamRef("cam", None), change)
    assert streams.load("cam") is None
    assert list(streams.list()) == []


def test_two_processes_updating_one_stream_both_take_effect(root: Path) -> None:
    # Given a stream, and process B ready to tag it
    streams = catalog(root)
    streams.create("cam", retention_hours=1)
    b_tags = in_other_process(root, "tag")
    updates = StreamUpdates(streams._store, streams)
    seen: list[int] = []

    def change(record: StreamRecord) -> StreamRecord:
        if not seen:
            b_tags()  # B tags the stream after A's first read
        seen.append(record.retention_hours)
        return replace(record, retention_hours=48)

    # When A's retention change is written back after B's tag
    updated = updates.update(StreamRef("cam", None), change)
    # Then A's change was applied again to B's version: the stream has both
    record = streams.find("cam")
    assert len(seen) == 2
    assert record.retention_hours == 48 and record.tags == {"site": "north"}
    assert record.version == updated.version
