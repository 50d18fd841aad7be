"""A live Matroska stream read as it arrives, cluster by cluster: what a KVS producer sends in one PutMedia session.

A producer (the KVS producer SDKs, GStreamer's ``matroskamux streamable=true``) sends an EBML header, a Segment of
unknown size, Info and Tracks, then Clusters, often of unknown size too, with Tags between them (KVS's
``AWS_KINESISVIDEO_*`` fragment metadata). A cluster of unknown size ends where an element that cannot be inside a
cluster begins (the next Cluster, Tags, a new EBML header) or at the end of the stream. A new EBML header starts a
new Segment with its own Tracks (a producer restarting its stream).

``read_clusters`` yields events in arrival order: ``ClusterStarted`` once a cluster's Timecode is read (a producer
expects BUFFERING then), and ``ClusterComplete`` with a standalone Matroska file of that one cluster (the Segment's
header, the Tags received since the previous cluster, the cluster), which the splitter can read like any upload.
Memory is bounded by one cluster (``max_cluster_bytes``); nothing is parsed beyond the element framing and the
first block's key-frame flag.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from stillframe.ebml import (
    BLOCK_GROUP,
    CLUSTER,
    CLUSTER_TIMECODE,
    DEFAULT_TIMECODE_SCALE_NS,
    EBML_HEADER,
    INFO,
    SEGMENT,
    SIMPLE_BLOCK,
    TAGS,
    TIMECODE_SCALE,
    TRACKS,
    id_bytes,
    size_bytes,
    uint,
    vint_length,
)

# What may sit inside a cluster (Matroska's Cluster children); anything else ends a cluster of unknown size.
CLUSTER_CHILDREN = frozenset({0xE7, 0xA3, 0xA0, 0xA7, 0xAB, 0x5854, 0xAF, 0xEC, 0xBF})
UNKNOWN = -1


class StreamError(Exception):
    """The stream is not Matroska as a producer sends it; ``error_id`` is the KVS ack error it is answered with."""

    def __init__(self, message: str, error_id: int) -> None:
        super().__init__(message)
        self.error_id = error_id


INVALID_MKV_DATA = 4006
FRAGMENT_SIZE_REACHED = 4001


@dataclass(frozen=True)
class ClusterStarted:
    """A cluster's Timecode has arrived: the producer's fragment ``timecode`` (in the Segment's timecode units)."""

    timecode: int
    timecode_ms: int


@dataclass(frozen=True)
class ClusterComplete:
    """A whole cluster, as a standalone Matroska file (``media``), and what the session needs to know of it."""

    timecode: int
    timecode_ms: int
    media: bytes
    key_frame_first: bool
    tags: bytes  # the Tags elements received before it (fragment metadata)
    header: bytes  # the Segment's header it was read under (EBML header, Info, Tracks): same header, same track


ClusterEvent = ClusterStarted | ClusterComplete


class _Reader:
    """Bytes from an iterator of chunks, read forward; keeps only what has not been consumed."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = bytearray()
        self._offset = 0
        self.position = 0  # bytes consumed since the stream began

    def available(self, count: int) -> bool:
        """Whether ``count`` more bytes can be had (reading chunks as needed)."""
        while len(self._buffer) - self._offset < count:
            chunk = next(self._chunks, None)
            if chunk is None:
                return False
            if self._offset:
                del self._buffer[: self._offset]
                self._offset = 0
            self._buffer += chunk
        return True

    def peek(self, count: int) -> bytes:
        return bytes(self._buffer[self._offset : self._offset + count])

    def take(self, count: int) -> bytes:
        if not self.available(count):
            raise StreamError("the stream ended inside an element", INVALID_MKV_DATA)
        data = bytes(self._buffer[self._offset : self._offset + count])
        self._offset += count
        self.position += count
        return data

    def at_end(self) -> bool:
        return not self.available(1)


def _vint_length(first: int) -> int:
    try:
        return vint_length(first)
    except ValueError as exc:
        raise StreamError(str(exc), INVALID_MKV_DATA) from exc


def _read_id(reader: _Reader) -> tuple[int, bytes]:
    if not reader.available(1):
        raise StreamError("the stream ended inside an element header", INVALID_MKV_DATA)
    length = _vint_length(reader.peek(1)[0])
    if length > 4:
        raise StreamError("an element ID is longer than 4 bytes", INVALID_MKV_DATA)
    raw = reader.take(length)
    return int.from_bytes(raw, "big"), raw


def _read_size(reader: _Reader) -> tuple[int, bytes]:
    if not reader.available(1):
        raise StreamError("the stream ended inside an element header", INVALID_MKV_DATA)
    length = _vint_length(reader.peek(1)[0])
    raw = reader.take(length)
    value = int.from_bytes(raw, "big") & ((1 << (7 * length)) - 1)
    return (UNKNOWN if value == (1 << (7 * length)) - 1 else value), raw


def _size_bytes(size: int) -> bytes:
    return size_bytes(None if size == UNKNOWN else size)


def _children(data: bytes) -> Iterator[tuple[int, bytes]]:
    """The (id, payload) of each element inside a master element's payload of known size."""
    reader = _Reader([data])
    while not reader.at_end():
        element, _ = _read_id(reader)
        size, _ = _read_size(reader)
        yield element, reader.take(size if size != UNKNOWN else len(data))


@dataclass
class _Segment:
    header: bytes = b""  # EBML header + Segment (unknown size) + Info + Tracks, as a file of its own begins
    timecode_scale_ns: int = DEFAULT_TIMECODE_SCALE_NS

    def ms(self, timecode: int) -> int:
        return timecode * self.timecode_scale_ns // 1_000_000

    def take(self, element: int, head: bytes, payload: bytes) -> bytes:
        """Keep a Segment-level element the fragment files need (Info, Tracks); return it if it is Tags (fragment
        metadata for the next cluster), else b"" (SeekHead, Cues, Void, ...: not needed to read a cluster)."""
        if element == TAGS:
            return head + payload
        if element in (INFO, TRACKS):
            self.header += head + payload
        if element == INFO:
            scale = dict(_children(payload)).get(TIMECODE_SCALE)
            self.timecode_scale_ns = uint(scale) if scale else DEFAULT_TIMECODE_SCALE_NS
        return b""


def read_clusters(chunks: Iterable[bytes], *, max_cluster_bytes: int) -> Iterator[ClusterEvent]:
    """The events of a producer's Matroska stream (module docstring); StreamError for what no producer sends."""
    reader = _Reader(chunks)
    segment: _Segment | None = None
    pending_tags = b""
    while not reader.at_end():
        element, raw_id = _read_id(reader)
        size, raw_size = _read_size(reader)
        if element == EBML_HEADER:
            segment = _Segment(header=raw_id + raw_size + reader.take(_known(size)))
            pending_tags = b""
        elif element == SEGMENT:
            if segment is None:
                raise StreamError("a Segment came before the EBML header", INVALID_MKV_DATA)
            segment.header += raw_id + _size_bytes(UNKNOWN)  # enter it: its children follow at this level
        elif element == CLUSTER:
            if segment is None or id_bytes(TRACKS) not in segment.header:
                raise StreamError("a Cluster came before the stream's Tracks", INVALID_MKV_DATA)
            yield from _cluster(reader, segment, size, pending_tags, max_cluster_bytes)
            pending_tags = b""
        else:
            if segment is None:
                raise StreamError("the stream does not start with an EBML header", INVALID_MKV_DATA)
            pending_tags += segment.take(element, raw_id + raw_size, reader.take(_known(size)))


def _known(size: int) -> int:
    if size == UNKNOWN:
        raise StreamError("only Segments and Clusters may have an unknown size", INVALID_MKV_DATA)
    return size


def _cluster(reader: _Reader, segment: _Segment, size: int, tags: bytes, max_bytes: int) -> Iterator[ClusterEvent]:
    """Read one cluster's children, announcing it once its Timecode is known."""
    end = None if size == UNKNOWN else reader.position + size
    if size != UNKNOWN and size > max_bytes:
        raise StreamError(f"a cluster of {size} bytes is larger than {max_bytes}", FRAGMENT_SIZE_REACHED)
    body = bytearray()
    timecode: int | None = None
    key_frame_first: bool | None = None
    while (reader.position < end) if end is not None else reader.available(1):
        if end is None and _peek_id(reader) not in CLUSTER_CHILDREN:
            break  # an element of the Segment's level: this cluster of unknown size is complete
        element, raw_id = _read_id(reader)
        child_size, raw_size = _read_size(reader)
        payload = reader.take(_known(child_size))
        body += raw_id + raw_size + payload
        if len(body) > max_bytes:
            raise StreamError(f"a cluster is larger than {max_bytes} bytes", FRAGMENT_SIZE_REACHED)
        if element == CLUSTER_TIMECODE and timecode is None:
            timecode = uint(payload)
            yield ClusterStarted(timecode, segment.ms(timecode))
        elif element in (SIMPLE_BLOCK, BLOCK_GROUP) and key_frame_first is None:
            key_frame_first = _is_key_frame(element, payload)
    if timecode is None:
        raise StreamError("a cluster has no Timecode", INVALID_MKV_DATA)
    cluster = id_bytes(CLUSTER) + _size_bytes(len(body)) + bytes(body)
    media = segment.header + tags + cluster
    yield ClusterComplete(timecode, segment.ms(timecode), media, bool(key_frame_first), tags, segment.header)


def _peek_id(reader: _Reader) -> int:
    first = reader.peek(1)[0]
    length = _vint_length(first) if first else 1
    if not reader.available(length):
        return -1
    return int.from_bytes(reader.peek(length), "big")


def _is_key_frame(element: int, payload: bytes) -> bool:
    """A SimpleBlock's key-frame flag; a BlockGroup without a ReferenceBlock is a key frame."""
    if element == SIMPLE_BLOCK:
        track_length = _vint_length(payload[0]) if payload else 1
        flags_at = track_length + 2  # track number, 16-bit relative timecode, flags
        return len(payload) > flags_at and bool(payload[flags_at] & 0x80)
    return all(child != 0xFB for child, _ in _children(payload))  # 0xFB: ReferenceBlock
