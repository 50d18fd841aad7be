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
"""

from __future__ import annotations

import io
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import av
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

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
    """The Matroska a KVS producer would send for ``clip`` (a Matroska file of one H.264 track), one cluster per
    GOP, starting at producer time ``start_ms``."""
    top = dict(top_elements(clip))
    segment = dict(top_elements(top[b"\x18\x53\x80\x67"]))
    info = _element(b"\x15\x49\xa9\x66", _element(b"\x2a\xd7\xb1", _uint(1_000_000)))
    tracks = _element(b"\x16\x54\xae\x6b", segment[b"\x16\x54\xae\x6b"])
    header = _element(b"\x1a\x45\xdf\xa3", top[b"\x1a\x45\xdf\xa3"]) + b"\x18\x53\x80\x67" + UNKNOWN_SIZE
    header += info + tracks
    with av.open(io.BytesIO(clip)) as container:
        stream = container.streams.video[0]
        scale = stream.time_base
        packets = [
            (int(packet.pts * scale * 1000), packet.is_keyframe, bytes(packet))
            for packet in container.demux(stream)
            if packet.size and packet.pts is not None
        ]
    origin = min(pts for pts, _, _ in packets)
    clusters: list[tuple[int, bytes]] = []
    blocks: list[bytes] = []
    cluster_ms = 0
    for pts, key, data in packets:
        if key and blocks:
            clusters.append((cluster_ms, CLUSTER + UNKNOWN_SIZE + b"".join(blocks) + end_of_fragment_tags()))
            blocks = []
        if not blocks:
            cluster_ms = start_ms + pts - origin
            blocks.append(_element(b"\xe7", _uint(cluster_ms)))
        relative = start_ms + pts - origin - cluster_ms
        blocks.append(
            _element(b"\xa3", b"\x81" + relative.to_bytes(2, "big", signed=True) + (b"\x80" if key else b"\x00") + data)
        )
    clusters.append((cluster_ms, CLUSTER + UNKNOWN_SIZE + b"".join(blocks) + end_of_fragment_tags()))
    return ProducerStream(header, clusters)


@dataclass
class Session:
    """What one PutMedia connection saw: its acks (with arrival times) and how it ended."""

    acks: list[dict[str, object]] = field(default_factory=list)
    ack_times: list[float] = field(default_factory=list)
    status: int | None = None
    error: str | None = None


class EmulatedProducer:
    """Streams a ``ProducerStream`` into one stream over real sockets, behaving as the SDK does (module docstring).

    ``stale_s``: how long a sent fragment may wait for BUFFERING before the connection is reset and the
    unpersisted fragments are sent again (the SDK's connection-staleness default is 5 s).
    ``cut_after``: reset the connection once, in the middle of that cluster's bytes (a network fault).
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
    ) -> None:
        self.url = url.rstrip("/")
        self.stream_name = stream_name
        self.credentials = credentials
        self.region = region
        self.ca_bundle = ca_bundle
        self.stale_s = stale_s
        self.wait_last_s = wait_last_s
        self.sessions: list[Session] = []
        self.persisted: dict[int, str] = {}  # timecode -> fragment number

    def run(self, media: ProducerStream, *, pace_s: float = 0.0, cut_after: int | None = None) -> None:
        """Send every cluster until each is PERSISTED (reconnecting as the SDK does); raise if that fails."""
        for _attempt in range(5):
            pending = [(tc, data) for tc, data in media.clusters if tc not in self.persisted]
            if not pending:
                return
            self._session(media.header, pending, pace_s=pace_s, cut_at=cut_after)
            cut_after = None  # the fault happens once
        missing = [tc for tc, _ in media.clusters if tc not in self.persisted]
        raise AssertionError(f"fragments never persisted: {missing}; sessions: {self.sessions}")

    def _session(self, header: bytes, clusters: list[tuple[int, bytes]], *, pace_s: float, cut_at: int | None) -> None:
        session = Session()
        self.sessions.append(session)
        connection = self._connect()
        reader = threading.Thread(target=self._read_acks, args=(connection, session), daemon=True)
        try:
            connection.sendall(self._head())
            reader.start()
            self._chunk(connection, header)
            for index, (timecode, data) in enumerate(clusters):
                if cut_at is not None and index == cut_at:
                    self._chunk(connection, data[: len(data) // 2])
                    return  # reset mid-cluster: the finally closes the socket without a terminating chunk
                self._chunk(connection, data)
                if not self._wait(session, "BUFFERING", timecode, self.stale_s):
                    return  # stale: reset and replay what is not persisted
                time.sleep(pace_s)
            self._wait(session, "PERSISTED", clusters[-1][0], self.wait_last_s)
            connection.sendall(b"0\r\n\r\n")
            reader.join(timeout=self.wait_last_s)
        except OSError as exc:  # the server closed on us: what it answered (read by the reader) says why
            session.error = session.error or str(exc)
        finally:
            connection.close()
            reader.join(timeout=5)

    def _wait(self, session: Session, event: str, timecode: int, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if any(a.get("EventType") == event and a.get("FragmentTimecode") == timecode for a in session.acks):
                return True
            if session.error is not None or session.status not in (None, 200):
                return False
            time.sleep(0.01)
        return False

    def _connect(self) -> socket.socket:
        parts = urlsplit(self.url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        sock = socket.create_connection((parts.hostname, port), timeout=60)
        if parts.scheme == "https":
            context = ssl.create_default_context(cafile=self.ca_bundle)
            sock = context.wrap_socket(sock, server_hostname=parts.hostname)
        return sock

    def _head(self) -> bytes:
        parts = urlsplit(self.url)
        url = f"{self.url}/putMedia"
        headers = {
            "x-amzn-stream-name": self.stream_name,
            "x-amzn-fragment-timecode-type": "ABSOLUTE",
            "x-amzn-producer-start-timestamp": f"{time.time():.3f}",
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
        except (OSError, ValueError) as exc:
            session.error = session.error or str(exc)
