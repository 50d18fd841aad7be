"""A KVS producer as the official producer SDKs behave on the wire, to drive ``stillframe serve`` in tests.

What the C producer SDK (v1.6.0 over PIC v1.2.0) does, read from its source and its captured traffic:
- one chunked PutMedia for the whole session, signed with SigV4 for ``kinesisvideo`` over the EMPTY payload (the
  body streams after the signature; no ``x-amz-content-sha256`` header), with ``x-amzn-fragment-timecode-type:
  ABSOLUTE``, ``x-amzn-producer-start-timestamp`` and ``x-amzn-fragment-acknowledgment-required: 1``;
- the body: an EBML header, a Segment of unknown size, Info (1 ms timecode scale) and Tracks, then one Cluster of
  unknown size per fragment, its Timecode the absolute producer time in ms, and a Tags element
  ``AWS_KINESISVIDEO_END_OF_FRAGMENT`` after each;
- acks read while sending; a fragment not acked BUFFERING within the staleness time makes it reset the connection
  and, on a new PutMedia, send again every fragment not yet PERSISTED (header included);
- at the end it keeps the body open until the LAST fragment is PERSISTED, then sends the terminating chunk.

``EmulatedProducer.stream_live`` is the other kind of producer: a live encoder's output (GStreamer's
``matroskamux streamable=true``) piped as it comes into one chunked PutMedia, as ``curl -T -`` would send it.
"""

from __future__ import annotations

import base64
import io
import json
import os
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any
from urllib.parse import urlsplit

import av
import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from tests.support.synth import read_frame_number

CLUSTER = b"\x1f\x43\xb6\x75"
UNKNOWN_SIZE = b"\x01\xff\xff\xff\xff\xff\xff\xff"
END_OF_FRAGMENT = "AWS_KINESISVIDEO_END_OF_FRAGMENT"


def _vint(value: int) -> bytes:
    """An EBML size in 8 bytes."""
    return b"\x01" + value.to_bytes(7, "big")


def _element(element_id: bytes, payload: bytes) -> bytes:
    return element_id + _vint(len(payload)) + payload


def _uint(value: int) -> bytes:
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


def top_elements(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """The (raw id, payload) of each element at one level of ``data``, sizes known."""
    at = 0
    while at < len(data):
        id_length = 1 + next(i for i in range(4) if data[at] & (0x80 >> i))
        raw_id = data[at : at + id_length]
        at += id_length
        size_length = 1 + next(i for i in range(8) if data[at] & (0x80 >> i))
        size = int.from_bytes(data[at : at + size_length], "big") & ((1 << (7 * size_length)) - 1)
        at += size_length
        if size == (1 << (7 * size_length)) - 1:  # unknown: the rest
            size = len(data) - at
        yield raw_id, data[at : at + size]
        at += size


def end_of_fragment_tags() -> bytes:
    simple = _element(b"\x67\xc8", _element(b"\x45\xa3", END_OF_FRAGMENT.encode()) + _element(b"\x44\x87", b""))
    return _element(b"\x12\x54\xc3\x67", _element(b"\x73\x73", simple))


@dataclass(frozen=True)
class ProducerStream:
    """A clip cut as the SDK sends it: the session header and one cluster (with its trailing tags) per GOP."""

    header: bytes
    clusters: list[tuple[int, bytes]]  # (absolute timecode ms, bytes)


def sdk_stream(clip: bytes, *, start_ms: int) -> ProducerStream:
    """The Matroska a KVS producer would send for ``clip`` (a Matroska file of one H.264 track, and an audio track
    as track 2 when it has one), one cluster per GOP, starting at producer time ``start_ms``. Audio blocks are
    interleaved by time in the cluster open when they come (video first at equal times), as the SDK sends frames in
    the order they are put; audio before the first key frame goes in the first cluster."""
    top = dict(top_elements(clip))
    segment = dict(top_elements(top[b"\x18\x53\x80\x67"]))
    info = _element(b"\x15\x49\xa9\x66", _element(b"\x2a\xd7\xb1", _uint(1_000_000)))
    tracks = _element(b"\x16\x54\xae\x6b", segment[b"\x16\x54\xae\x6b"])
    header = _element(b"\x1a\x45\xdf\xa3", top[b"\x1a\x45\xdf\xa3"]) + b"\x18\x53\x80\x67" + UNKNOWN_SIZE
    header += info + tracks
    with av.open(io.BytesIO(clip)) as container:
        packets = sorted(
            (
                int(packet.pts * packet.stream.time_base * 1000),
                packet.stream.index + 1,
                packet.is_keyframe,
                bytes(packet),
            )
            for packet in container.demux()
            if packet.size and packet.pts is not None
        )
    origin = min(pts for pts, track, _, _ in packets if track == 1)
    groups: list[list[tuple[int, int, bool, bytes]]] = []
    lead: list[tuple[int, int, bool, bytes]] = []  # what comes before the first key frame
    for packet in packets:
        if packet[1] == 1 and packet[2]:
            groups.append([*lead, packet] if not groups else [packet])
        else:
            (groups[-1] if groups else lead).append(packet)
    clusters: list[tuple[int, bytes]] = []
    for group in groups:
        cluster_ms = start_ms + next(pts for pts, track, key, _ in group if track == 1 and key) - origin
        blocks = [_element(b"\xe7", _uint(cluster_ms))]
        for pts, track, key, data in group:
            relative = (start_ms + pts - origin - cluster_ms).to_bytes(2, "big", signed=True)
            blocks.append(_element(b"\xa3", bytes([0x80 | track]) + relative + (b"\x80" if key else b"\x00") + data))
        clusters.append((cluster_ms, CLUSTER + UNKNOWN_SIZE + b"".join(blocks) + end_of_fragment_tags()))
    return ProducerStream(header, clusters)


@dataclass
class Session:
    """What one PutMedia connection saw: its acks (with arrival times) and how it ended."""

    acks: list[dict[str, object]] = field(default_factory=list)
    ack_times: list[float] = field(default_factory=list)
    status: int | None = None
    error: str | None = None
    body_ended_at: float | None = None  # when the terminating chunk went out (monotonic), as ack_times


class EmulatedProducer:
    """Streams a ``ProducerStream`` into one stream over real sockets, behaving as the SDK does (module docstring).

    ``stale_s``: how long a sent fragment may wait for BUFFERING before the connection is reset and the
    unpersisted fragments are sent again (the SDK's connection-staleness default is 5 s).
    ``cut_after``: reset the connection once, in the middle of that cluster's bytes (a network fault).
    ``timecode_type``: ABSOLUTE (the SDK's) or RELATIVE (cluster timecodes count from ``producer_start_s``, which
    defaults to the time each session opens). ``reconnect_s``: how long to retry a refused connection (a server
    restarting) before giving up.
    """

    def __init__(
        self,
        url: str,
        stream_name: str,
        *,
        credentials: tuple[str, str] = ("AKIDEXAMPLE", "secret"),
        region: str = "us-east-1",
        ca_bundle: str | None = None,
        stale_s: float = 5.0,
        wait_last_s: float = 30.0,
        timecode_type: str = "ABSOLUTE",
        producer_start_s: float | None = None,
        reconnect_s: float = 0.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.stream_name = stream_name
        self.credentials = credentials
        self.region = region
        self.ca_bundle = ca_bundle
        self.stale_s = stale_s
        self.wait_last_s = wait_last_s
        self.timecode_type = timecode_type
        self.producer_start_s = producer_start_s
        self.reconnect_s = reconnect_s
        self.sessions: list[Session] = []
        self.persisted: dict[int, str] = {}  # timecode -> fragment number

    def run(self, media: ProducerStream, *, pace_s: float = 0.0, cut_after: int | None = None, pieces: int = 1) -> None:
        """Send every cluster until each is PERSISTED (reconnecting as the SDK does); raise if that fails.

        ``pace_s``: the time each cluster takes to send; ``pieces``: the chunks each cluster goes out in, that time
        spread between them (the SDK sends frame by frame, so a session can break in the middle of a cluster).
        """
        for _attempt in range(5):
            pending = [(tc, data) for tc, data in media.clusters if tc not in self.persisted]
            if not pending:
                return
            self._session(media.header, pending, pace_s=pace_s, cut_at=cut_after, pieces=pieces)
            cut_after = None  # the fault happens once
        missing = [tc for tc, _ in media.clusters if tc not in self.persisted]
        raise AssertionError(f"fragments never persisted: {missing}; sessions: {self.sessions}")

    def _session(
        self, header: bytes, clusters: list[tuple[int, bytes]], *, pace_s: float, cut_at: int | None, pieces: int
    ) -> None:
        with self._opened() as (session, connection, reader):
            self._chunk(connection, header)
            for index, (timecode, data) in enumerate(clusters):
                if cut_at is not None and index == cut_at:
                    self._chunk(connection, data[: len(data) // 2])
                    return  # reset mid-cluster: the finally closes the socket without a terminating chunk
                step = pace_s / pieces
                for at in range(pieces):
                    self._chunk(connection, data[len(data) * at // pieces : len(data) * (at + 1) // pieces])
                    if at < pieces - 1:
                        time.sleep(step)
                if not self._wait(session, "BUFFERING", timecode, self.stale_s):
                    return  # stale: reset and replay what is not persisted
                time.sleep(step)
            self._wait(session, "PERSISTED", clusters[-1][0], self.wait_last_s)
            connection.sendall(b"0\r\n\r\n")
            reader.join(timeout=self.wait_last_s)

    def stream_live(self, source: IO[bytes], *, read_size: int = 64 * 1024) -> bytes:
        """Send what ``source`` yields, each read as one chunk as soon as it is there, in one session; at its end,
        end the body and read the acks to the end of the answer. Returns the bytes sent.

        A live encoder's clusters have no END_OF_FRAGMENT tags, so its last cluster only ends with the body: unlike
        the SDK, this producer cannot wait for the last PERSISTED before ending it. Nothing is replayed.
        """
        sent = bytearray()
        with self._opened() as (session, connection, reader):
            while data := os.read(source.fileno(), read_size):  # what the pipe holds, without waiting for more
                self._chunk(connection, data)
                sent += data
            connection.sendall(b"0\r\n\r\n")
            session.body_ended_at = time.monotonic()
            reader.join(timeout=self.wait_last_s)
        return bytes(sent)

    @contextmanager
    def _opened(self) -> Iterator[tuple[Session, socket.socket, threading.Thread]]:
        """A new session: connected, its request head sent, its acks read on a thread; a send that fails ends it, and
        leaving closes the connection (without a terminating chunk, unless the body sent one)."""
        session = Session()
        self.sessions.append(session)
        connection = self._connect()
        reader = threading.Thread(target=self._read_acks, args=(connection, session), daemon=True)
        try:
            connection.sendall(self._head())
            reader.start()
            yield session, connection, reader
        except OSError as exc:
            session.error = session.error or str(exc)  # the server's answer, when it gave one, says more
        finally:
            connection.close()
            if reader.ident is not None:
                reader.join(timeout=5)

    def _wait(self, session: Session, event: str, timecode: int, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            answers = {a.get("EventType") for a in session.acks if a.get("FragmentTimecode") == timecode}
            if event in answers:
                return True
            if "ERROR" in answers or session.error is not None or session.status not in (None, 200):
                return False  # an ERROR ack is the fragment's answer: no PERSISTED will follow
            time.sleep(0.01)
        return False

    def _connect(self) -> socket.socket:
        parts = urlsplit(self.url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        deadline = time.monotonic() + self.reconnect_s
        while True:
            try:
                sock = socket.create_connection((parts.hostname, port), timeout=60)
                break
            except ConnectionRefusedError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        if parts.scheme == "https":
            context = ssl.create_default_context(cafile=self.ca_bundle)
            sock = context.wrap_socket(sock, server_hostname=parts.hostname)
        return sock

    def _head(self) -> bytes:
        parts = urlsplit(self.url)
        url = f"{self.url}/putMedia"
        headers = {
            "x-amzn-stream-name": self.stream_name,
            "x-amzn-fragment-timecode-type": self.timecode_type,
            "x-amzn-producer-start-timestamp": f"{self.producer_start_s or time.time():.3f}",
            "x-amzn-fragment-acknowledgment-required": "1",
            "Transfer-Encoding": "chunked",
            "Connection": "keep-alive",
        }
        request = AWSRequest(method="POST", url=url, data=b"", headers=headers)
        SigV4Auth(Credentials(*self.credentials), "kinesisvideo", self.region).add_auth(request)
        lines = [f"POST {parts.path or ''}/putMedia HTTP/1.1", f"Host: {parts.netloc}"]
        lines += [f"{name}: {value}" for name, value in request.headers.items() if name.lower() != "host"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    @staticmethod
    def _chunk(connection: socket.socket, data: bytes) -> None:
        connection.sendall(b"%x\r\n%s\r\n" % (len(data), data))

    def _read_acks(self, connection: socket.socket, session: Session) -> None:
        """Read the answer: status, then one JSON ack per chunked line, as they come."""
        stream = connection.makefile("rb")
        try:
            status_line = stream.readline()
            session.status = int(status_line.split()[1]) if status_line else None
            headers = {}
            while (line := stream.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = line.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
            if session.status != 200:
                session.error = stream.read(int(headers.get("content-length", "0") or 0)).decode(errors="replace")
                return
            while (size_line := stream.readline()) and (size := int(size_line.split(b";")[0], 16)):
                line = stream.read(size)
                stream.readline()
                ack = json.loads(line)
                session.acks.append(ack)
                session.ack_times.append(time.monotonic())
                if ack.get("EventType") == "PERSISTED":
                    self.persisted.setdefault(int(ack["FragmentTimecode"]), str(ack["FragmentNumber"]))
            if not size_line:  # the server went away mid-answer: the producer notices at once and reconnects
                session.error = session.error or "the connection closed before the ack stream ended"
        except (OSError, ValueError) as exc:
            session.error = session.error or str(exc)


def session_clients(url: str, key: tuple[str, str] = ("AKIDEXAMPLE", "secret")) -> tuple[Any, Any]:
    """boto3's kinesisvideo and kinesis-video-archived-media clients on ``url``, without retries."""
    options: dict[str, Any] = dict(
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key[0],
        aws_secret_access_key=key[1],
        config=Config(retries={"max_attempts": 1}),
    )
    return boto3.client("kinesisvideo", **options), boto3.client("kinesis-video-archived-media", **options)


def frame_at(archived: Any, stream: str, ms: int) -> int:
    """The frame number painted on the still GetImages gives at producer time ``ms``."""
    answer = archived.get_images(
        StreamName=stream,
        ImageSelectorType="PRODUCER_TIMESTAMP",
        StartTimestamp=ms / 1000,
        EndTimestamp=ms / 1000,
        Format="JPEG",
    )
    return read_frame_number(base64.b64decode(answer["Images"][0]["ImageContent"]))
