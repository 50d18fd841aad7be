"""Emulated KVS producers for ``bench.ingest``: many PutMedia sessions paced in real time on one asyncio loop.

Each session is one chunked PutMedia carrying what ``tests.support.producer.sdk_stream`` cuts from the bench clip
(one cluster per 2 s GOP, ABSOLUTE timecodes, the END_OF_FRAGMENT tags after each cluster). Bytes go out as a
camera's would: one HTTP chunk per frame every 40 ms (25 fps), so a cluster streams at the media's bitrate over its
2 s; the first chunk also carries the cluster's head and timecode, the last one its tags, which is the byte that
tells the server the cluster is complete. Sessions start spread evenly over one cluster period, as unsynchronised
cameras are. Acks are read as they come and time-stamped on arrival. No signature: serve runs without auth here,
so none would be checked (the SDK's is over the empty payload and costs the server nothing without auth).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tests.support.producer import ProducerStream

FRAME_S = 0.04  # 25 fps
CLUSTER_S = 2.0
LAST_ACK_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class PacedCluster:
    """One cluster as the producer sends it: its timecode and one piece per frame."""

    timecode: int
    pieces: list[bytes]


@dataclass
class SessionResult:
    """What one session sent and saw."""

    stream: str
    last_byte: dict[int, float] = field(default_factory=dict)  # timecode -> monotonic time its last byte went out
    acks: list[tuple[str, int, float, str]] = field(default_factory=list)  # (event, timecode, arrival, number/error)
    lateness_s: list[float] = field(default_factory=list)  # how late each piece went out against its schedule
    error: str | None = None

    def persisted_latencies(self) -> list[float]:
        """Seconds from each cluster's last byte to its PERSISTED ack."""
        return [
            arrived - self.last_byte[timecode]
            for event, timecode, arrived, _ in self.acks
            if event == "PERSISTED" and timecode in self.last_byte
        ]


def _element_end(data: bytes, at: int) -> int:
    """Where the element starting at ``at`` ends (its size known)."""
    id_length = 1 + next(i for i in range(4) if data[at] & (0x80 >> i))
    at += id_length
    size_length = 1 + next(i for i in range(8) if data[at] & (0x80 >> i))
    size = int.from_bytes(data[at : at + size_length], "big") & ((1 << (7 * size_length)) - 1)
    return at + size_length + size


def frame_pieces(cluster: bytes) -> list[bytes]:
    """A cluster of ``sdk_stream`` (Cluster head of unknown size, Timecode, SimpleBlocks, Tags) cut per frame: the
    head and Timecode ride with the first frame, the Tags with the last."""
    at = 12  # Cluster ID (4) + unknown size (8)
    at = _element_end(cluster, at)  # Timecode
    cuts = [0]
    while at < len(cluster) and cluster[at] == 0xA3:  # SimpleBlock
        at = _element_end(cluster, at)
        cuts.append(at)
    cuts[-1] = len(cluster)  # the Tags go with the last frame
    return [cluster[start:end] for start, end in itertools.pairwise(cuts)]


def paced(media: ProducerStream, clusters: int) -> tuple[bytes, list[PacedCluster]]:
    """The session header and the first ``clusters`` clusters cut per frame."""
    return media.header, [PacedCluster(tc, frame_pieces(data)) for tc, data in media.clusters[:clusters]]


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _head(url: str, stream: str) -> bytes:
    parts = urlsplit(url)
    lines = [
        "POST /putMedia HTTP/1.1",
        f"Host: {parts.netloc}",
        f"x-amzn-stream-name: {stream}",
        "x-amzn-fragment-timecode-type: ABSOLUTE",
        f"x-amzn-producer-start-timestamp: {time.time():.3f}",
        "x-amzn-fragment-acknowledgment-required: 1",
        "Transfer-Encoding: chunked",
        "Connection: keep-alive",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _read_acks(reader: asyncio.StreamReader, result: SessionResult, last: int, done: asyncio.Event) -> None:
    """The answer's status, then one JSON ack per chunk; ``done`` once the last cluster is PERSISTED or refused."""
    loop = asyncio.get_running_loop()
    status = await reader.readline()
    if b" 200 " not in status:
        result.error = f"answer: {status!r}"
        done.set()
        return
    while (await reader.readline()) not in (b"\r\n", b""):
        pass
    while (size_line := await reader.readline()) and (size := int(size_line.split(b";")[0], 16)):
        ack = json.loads(await reader.readexactly(size))
        await reader.readexactly(2)
        event, timecode = str(ack["EventType"]), int(ack.get("FragmentTimecode", -1))
        detail = str(ack.get("FragmentNumber") or ack.get("ErrorId") or "")
        result.acks.append((event, timecode, loop.time(), detail))
        if event in ("PERSISTED", "ERROR") and timecode == last:
            done.set()
    done.set()


async def run_session(
    url: str, stream: str, header: bytes, clusters: list[PacedCluster], start: float
) -> SessionResult:
    """One producer session starting at loop time ``start``: every cluster paced per frame, then the wait for the
    last PERSISTED and the end of the body, as the SDK does."""
    loop = asyncio.get_running_loop()
    result = SessionResult(stream)
    parts = urlsplit(url)
    await asyncio.sleep(max(0.0, start - loop.time()))
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    done = asyncio.Event()
    acks = asyncio.create_task(_read_acks(reader, result, clusters[-1].timecode, done))
    try:
        writer.write(_head(url, stream) + _chunk(header))
        for index, cluster in enumerate(clusters):
            for number, piece in enumerate(cluster.pieces):
                due = start + index * CLUSTER_S + number * FRAME_S
                await asyncio.sleep(max(0.0, due - loop.time()))
                result.lateness_s.append(loop.time() - due)
                writer.write(_chunk(piece))
                result.last_byte[cluster.timecode] = loop.time()  # overwritten until the cluster's last piece
                await writer.drain()
        await asyncio.wait_for(done.wait(), LAST_ACK_TIMEOUT_S)
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        await asyncio.wait_for(acks, 10)
    except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError) as exc:
        result.error = result.error or f"{type(exc).__name__}: {exc}"
    finally:
        acks.cancel()
        writer.close()
    return result


async def run_sessions(
    url: str, streams: list[str], header: bytes, clusters: list[PacedCluster]
) -> list[SessionResult]:
    """Every stream's session at once, their starts spread evenly over one cluster period."""
    loop = asyncio.get_running_loop()
    origin = loop.time() + 0.5
    spread = CLUSTER_S / len(streams)
    return list(
        await asyncio.gather(
            *(run_session(url, name, header, clusters, origin + i * spread) for i, name in enumerate(streams))
        )
    )
