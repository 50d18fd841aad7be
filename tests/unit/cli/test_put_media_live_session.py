"""put-media from a live URL: the session body (clusters timed at their offsets), replay after a dropped session,
and the fallback to one request per chunk where GetDataEndpoint(PUT_MEDIA) says no session can be held."""

from __future__ import annotations

import json
import queue
from dataclasses import dataclass, field
from typing import Any

import pytest

from stillframe.cli import put_media
from stillframe.cli.main import main
from stillframe.uploader import PutMediaTarget, TransientError
from stillframe.uploader.clusters import session_body
from stillframe.uploader.live import upload_live
from stillframe.uploader.session import Ack, Closed
from tests.unit.cli.conftest import FakeChunk


def element(element_id: int, payload: bytes) -> bytes:
    return (
        element_id.to_bytes((element_id.bit_length() + 7) // 8, "big")
        + b"\x01"
        + len(payload).to_bytes(7, "big")
        + payload
    )


def chunk_file(source_pts_ms: int, frame: bytes = b"frame") -> bytes:
    """A Matroska file shaped as the splitter writes one: SeekHead, Info, Tracks, Tags, one Cluster, Cues."""
    info = element(0x1549A966, element(0x2AD7B1, (1_000_000).to_bytes(3, "big")))
    cluster = element(
        0x1F43B675, element(0xE7, source_pts_ms.to_bytes(4, "big")) + element(0xA3, b"\x81\x00\x00\x80" + frame)
    )
    parts = [element(0x114D9B74, b"seek"), info, element(0x1654AE6B, b"tracks"), element(0x1254C367, b"tags")]
    segment = b"".join([*parts, cluster, element(0x1C53BB6B, b"cues")])
    return element(0x1A45DFA3, b"ebml") + element(0x18538067, segment)


def test_session_body_times_the_cluster_at_the_chunk_offset() -> None:
    # Given a chunk whose cluster carries the source's own timestamp (90 s into the camera's clock)
    body = session_body(chunk_file(90_000), offset_ms=2000)
    # Then the cluster is timed at the offset, the Segment's size is unknown, and the file's index is left out
    assert body.timecodes == (2000,)
    assert b"\xe7\x82\x07\xd0" in body.data and (90_000).to_bytes(4, "big") not in body.data
    assert b"\x18\x53\x80\x67\x01\xff\xff\xff\xff\xff\xff\xff" in body.data
    assert b"seek" not in body.data and b"cues" not in body.data
    assert body.data.index(b"tracks") < body.data.index(b"tags") < body.data.index(b"\x1f\x43\xb6\x75")
    # And ABSOLUTE keeps the file's own timecode
    assert session_body(chunk_file(90_000), offset_ms=None).timecodes == (90_000,)


@dataclass
class FakeSessions:
    """Session connections acking like serve (BUFFERING, RECEIVED, PERSISTED per cluster); the first one breaks
    when its second body arrives, before acking it."""

    bodies: list[list[int]] = field(default_factory=list)  # per connection: the cluster timecodes it received
    stored: set[int] = field(default_factory=set)

    def __call__(self) -> FakeConnection:
        return FakeConnection(self)


@dataclass
class FakeConnection:
    sessions: FakeSessions
    events: Any = None
    generation: int = 0
    broken: bool = False
    url: str = "http://fake"

    def open(self, events: queue.Queue[Any], generation: int) -> None:
        self.events, self.generation = events, generation
        self.sessions.bodies.append([])

    def send(self, data: bytes) -> None:
        if self.broken:
            raise TransientError("connection dropped")
        at = data.index(b"\x1f\x43\xb6\x75") + 12  # the cluster's first child: its Timecode, as session_body writes it
        timecode = int.from_bytes(data[at + 2 : at + 2 + (data[at + 1] & 0x7F)], "big")
        received = self.sessions.bodies[-1]
        received.append(timecode)
        if len(self.sessions.bodies) == 1 and len(received) == 2:
            self.broken = True
            self.events.put(Closed(self.generation, "connection dropped"))
            return
        self.sessions.stored.add(timecode)
        for event in ("BUFFERING", "RECEIVED", "PERSISTED"):
            ack = {"EventType": event, "FragmentTimecode": timecode, "FragmentNumber": str(timecode)}
            self.events.put(Ack(self.generation, ack))

    def end(self) -> None:
        self.events.put(Closed(self.generation, "the service ended the session"))

    def close(self) -> None:
        self.broken = True


def test_a_dropped_session_is_reopened_and_the_unacked_chunks_replayed() -> None:
    # Given three chunks of a live source and sessions whose first breaks before acking the second chunk
    chunks = [FakeChunk(chunk_file(90_000 + offset), offset, 2000) for offset in (0, 2000, 4000)]
    sessions = FakeSessions()
    delays: list[float] = []
    # When they are uploaded through a session
    results = list(
        upload_live(
            "rtsp://camera/live",
            PutMediaTarget("cam", 1_700_000_000_000),
            sessions,  # type: ignore[arg-type]
            splitter=lambda *_a, **_k: iter(chunks),
            sleep=delays.append,
        )
    )
    # Then a second session got every chunk not yet PERSISTED, and never the first one again
    assert sessions.bodies[0][:2] == [0, 2000]
    assert sessions.bodies[1][0] == 2000 and 0 not in sessions.bodies[1]
    assert sorted(set(sessions.bodies[0] + sessions.bodies[1])) == [0, 2000, 4000]
    # And every chunk was acknowledged once, in order
    assert [r.index for r in results] == [0, 1, 2] and all(r.persisted == 1 for r in results)
    assert results[1].attempts == 2


@pytest.fixture
def live_splitter(monkeypatch: pytest.MonkeyPatch, make_chunks: Any) -> list[Any]:
    chunks = make_chunks(0, 2000, 4000)
    monkeypatch.setattr(put_media, "load_splitter", lambda: (lambda *_a, **_k: iter(chunks), lambda _src: None))
    return chunks


def test_without_a_session_host_a_live_url_goes_up_one_request_per_chunk(
    fake_kvs: Any, live_splitter: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a service whose GetDataEndpoint(PUT_MEDIA) answers InvalidArgumentException (the deployed API)
    # When a live URL is uploaded
    argv = ["put-media", "--endpoint-url", fake_kvs.url, "--stream", "cam", "--producer-start-time", "1700000000"]
    status = main([*argv, "rtsp://camera.example/live"])
    captured = capsys.readouterr()
    # Then one line says so, and each chunk went up in its own whole-body request, all persisted
    assert [line for line in captured.err.splitlines() if line.startswith("note: ")] == [
        "note: no live session here (This deployment cannot hold a streaming PutMedia session.); "
        "sending one request per chunk"
    ]
    assert any(r.path.endswith("/getDataEndpoint") for r in fake_kvs.requests)
    puts = fake_kvs.put_requests
    assert len(puts) == 3 and all("content-length" in r.headers for r in puts)
    assert [r.headers["x-amzn-producer-start-timestamp"] for r in puts] == [
        "1700000000.000",
        "1700000002.000",
        "1700000004.000",
    ]
    assert [json.loads(line)["EventType"] for line in captured.out.splitlines()] == ["PERSISTED"] * 3
    assert status == 0
