"""A put-media chunk made into the body of a live PutMedia session: its clusters, timed from the upload's start.

The splitter writes each chunk as a Matroska file of its own (EBML header, a Segment of known size holding
SeekHead, Info, Tracks, Tags, one Cluster, Cues). A session is one stream, where a new EBML header starts a new
Segment, so each chunk goes in as its own Segment, of unknown size, with what a reader needs (Info, Tracks, Tags)
before its clusters; SeekHead and Cues point at byte positions of the file and are left out.

With RELATIVE timecodes the server's producer time of a cluster is the producer start plus the cluster's
Timecode, while the splitter's files carry the source's own timestamps: so each cluster's Timecode is rewritten to
the chunk's offset from the upload's first frame. Blocks are timed relative to their cluster and stay as they are.
Only the element framing is read: no media library, nothing of the server.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from stillframe.ebml import (
    CLUSTER,
    CLUSTER_TIMECODE,
    DEFAULT_TIMECODE_SCALE_NS,
    EBML_HEADER,
    INFO,
    SEGMENT,
    TAGS,
    TIMECODE_SCALE,
    TRACKS,
    UNKNOWN_SIZE,
    element,
    id_bytes,
    short_element,
    uint,
    uint_bytes,
    vint_length,
)

KEPT = (INFO, TRACKS, TAGS)  # the Segment's elements a reader of the session needs, in this order


class ChunkFormatError(ValueError):
    """The chunk is not a Matroska file as the splitter writes it."""


@dataclass(frozen=True)
class SessionBody:
    """One chunk's bytes for a session, and the cluster timecodes its acks will carry."""

    data: bytes
    timecodes: tuple[int, ...]


@dataclass(frozen=True)
class _Element:
    element_id: int
    start: int  # of its header
    payload: int  # of its payload
    end: int


def session_body(chunk_file: bytes, offset_ms: int | None) -> SessionBody:
    """``chunk_file`` as a Segment of a session, its first cluster timed at ``offset_ms`` (module docstring);
    ``None`` keeps the file's own cluster timecodes (ABSOLUTE: they are the producer times)."""
    top = {element.element_id: element for element in _elements(chunk_file, 0, len(chunk_file))}
    if EBML_HEADER not in top or SEGMENT not in top:
        raise ChunkFormatError("a chunk must hold an EBML header and a Segment")
    segment = top[SEGMENT]
    children = list(_elements(chunk_file, segment.payload, segment.end))
    kept = b"".join(chunk_file[e.start : e.end] for kind in KEPT for e in children if e.element_id == kind)
    scale = _timecode_scale(chunk_file, children)
    clusters = [e for e in children if e.element_id == CLUSTER]
    if not clusters:
        raise ChunkFormatError("a chunk must hold a cluster")
    first = _cluster_timecode(chunk_file, clusters[0])
    base = first if offset_ms is None else offset_ms * 1_000_000 // scale  # in the Segment's units, as acks count
    timecodes = tuple(base + _cluster_timecode(chunk_file, c) - first for c in clusters)
    rewritten = b"".join(_retimed(chunk_file, c, tc) for c, tc in zip(clusters, timecodes, strict=True))
    head = chunk_file[top[EBML_HEADER].start : top[EBML_HEADER].end] + id_bytes(SEGMENT) + UNKNOWN_SIZE
    return SessionBody(head + kept + rewritten, timecodes)


def _elements(data: bytes, at: int, end: int) -> Iterator[_Element]:
    """The elements one after another between ``at`` and ``end``; an unknown size runs to ``end``."""
    while at < end:
        id_length = _vint_length(data, at, 4)
        size_at = at + id_length
        size_length = _vint_length(data, size_at, 8)
        payload = size_at + size_length
        size = int.from_bytes(data[size_at:payload], "big") & ((1 << (7 * size_length)) - 1)
        stop = end if size == (1 << (7 * size_length)) - 1 else payload + size
        if stop > end:
            raise ChunkFormatError("an element runs past the end of the chunk")
        yield _Element(int.from_bytes(data[at:size_at], "big"), at, payload, stop)
        at = stop


def _vint_length(data: bytes, at: int, longest: int) -> int:
    try:
        return vint_length(data[at] if at < len(data) else 0, longest)
    except ValueError as exc:
        raise ChunkFormatError(str(exc)) from exc


def _timecode_scale(data: bytes, children: list[_Element]) -> int:
    for info in (e for e in children if e.element_id == INFO):
        for field in _elements(data, info.payload, info.end):
            if field.element_id == TIMECODE_SCALE:
                return uint(data[field.payload : field.end]) or DEFAULT_TIMECODE_SCALE_NS
    return DEFAULT_TIMECODE_SCALE_NS


def _cluster_timecode(data: bytes, cluster: _Element) -> int:
    for field in _elements(data, cluster.payload, cluster.end):
        if field.element_id == CLUSTER_TIMECODE:
            return uint(data[field.payload : field.end])
    raise ChunkFormatError("a cluster has no Timecode")


def _retimed(data: bytes, cluster: _Element, timecode: int) -> bytes:
    """The cluster with its Timecode set to ``timecode`` (written first, as Matroska wants it)."""
    body = short_element(CLUSTER_TIMECODE, uint_bytes(timecode))
    body += b"".join(
        data[f.start : f.end] for f in _elements(data, cluster.payload, cluster.end) if f.element_id != CLUSTER_TIMECODE
    )
    return element(CLUSTER, body)
