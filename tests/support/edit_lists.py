"""Give an MP4 an edit list that trims its start or end, as ``ffmpeg -ss/-t -c copy`` does, with no ffmpeg CLI.

Only the ``elst`` box changes: the samples stay, so the demuxer returns the frames outside the edit as
decode-only packets (``is_discard``), exactly like a stream-copied cut that does not land on a key frame.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

Span = tuple[int, int]  # payload start, box end


def with_edit_list(mp4: bytes, start_ms: int, end_ms: int) -> bytes:
    """The one-track, one-edit ``mp4`` presenting only [start_ms, end_ms) of its original presentation."""
    data = bytearray(mp4)
    moov = _child(data, (0, len(data)), b"moov")
    trak = _child(data, moov, b"trak")
    movie_scale = _timescale(data, _child(data, moov, b"mvhd"))
    media_scale = _timescale(data, _child(data, _child(data, trak, b"mdia"), b"mdhd"))
    elst, _ = _child(data, _child(data, trak, b"edts"), b"elst")
    version, entries = data[elst], struct.unpack_from(">I", data, elst + 4)[0]
    if entries != 1:
        raise ValueError(f"expected one edit, found {entries}")
    entry = ">Qq" if version else ">Ii"  # segment duration (movie time scale), media time (track time scale)
    _, media_time = struct.unpack_from(entry, data, elst + 8)
    duration = (end_ms - start_ms) * movie_scale // 1000
    struct.pack_into(entry, data, elst + 8, duration, media_time + start_ms * media_scale // 1000)
    return bytes(data)


def _boxes(data: bytearray, span: Span) -> Iterator[tuple[bytes, Span]]:
    """(type, (payload start, end)) of each box in ``span``."""
    start, end = span
    while start + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, start)
        header = 8
        if size == 1:  # 64-bit size follows the type
            size, header = struct.unpack_from(">Q", data, start + 8)[0], 16
        elif size == 0:  # the box runs to the end of its parent
            size = end - start
        yield kind, (start + header, start + size)
        start += size


def _child(data: bytearray, span: Span, kind: bytes) -> Span:
    for name, child in _boxes(data, span):
        if name == kind:
            return child
    raise ValueError(f"no {kind.decode()} box")


def _timescale(data: bytearray, header: Span) -> int:
    """The time scale of an ``mvhd`` or ``mdhd`` box (after version, flags and the creation/modification times)."""
    start, _ = header
    return int(struct.unpack_from(">I", data, start + (20 if data[start] else 12))[0])
