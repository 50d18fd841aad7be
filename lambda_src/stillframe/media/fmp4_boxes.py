"""The ISO-BMFF boxes of one fragmented-MP4 media segment (moof + mdat), written directly, and a top-level box lister.

A media segment is a handful of fixed boxes around one table of samples, so it is written here in Python rather
than through libavformat's mp4 muxer: the timestamps are then exactly the ones asked for (an absolute 64-bit
``tfdt``, per-sample durations and composition offsets), with no muxer shifting or fragmenting on its own terms,
and a 2 s 1080p segment costs little more than copying its payload. The init segment (whose sample entries and
codec configuration boxes are many) stays libavformat's work (``media.segments``).

Layout: ``moof`` = ``mfhd`` (sequence number) + one ``traf`` = ``tfhd`` (default-base-is-moof, the CMAF way) +
``tfdt`` (version 1) + ``trun`` (version 0: every composition offset is >= 0, decode times are shifted instead),
then the ``mdat`` holding the samples in decode order.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

# tfhd: default-base-is-moof. trun: data offset, per-sample duration, size, flags and composition offset.
_TFHD_DEFAULT_BASE_IS_MOOF = 0x020000
_TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200 | 0x000400 | 0x000800
# Sample flags (ISO/IEC 14496-12 8.8.3.1): a sync sample depends on no other; any other sample is non-sync.
SYNC_SAMPLE = 0x02000000
NON_SYNC_SAMPLE = 0x01010000
_HEADER = struct.Struct(">I4s")
_SAMPLE = struct.Struct(">IIII")


@dataclass(frozen=True, slots=True)
class Sample:
    """One sample of a track run: its payload, duration (track timescale), flags and composition offset."""

    data: bytes | memoryview  # a demuxed packet's buffer serves without a copy
    duration: int
    flags: int
    composition_offset: int = 0


def box(kind: bytes, *payload: bytes | memoryview) -> bytes:
    """A box of type ``kind`` around the concatenated ``payload``."""
    body = b"".join(payload)
    return _HEADER.pack(_HEADER.size + len(body), kind) + body


def full_box(kind: bytes, version: int, flags: int, *payload: bytes | memoryview) -> bytes:
    """A full box: version and 24-bit flags, then ``payload``."""
    return box(kind, struct.pack(">I", version << 24 | flags), *payload)


def media_segment(track_id: int, sequence: int, base_decode_time: int, samples: Sequence[Sample]) -> bytes:
    """``moof`` + ``mdat`` of one run of ``samples`` (decode order), the first decoded at ``base_decode_time``."""
    moof = _moof(track_id, sequence, base_decode_time, samples, data_offset=0)
    # The data offset counts from the moof's first byte (default-base-is-moof) to the first sample in the mdat.
    moof = _moof(track_id, sequence, base_decode_time, samples, data_offset=len(moof) + _HEADER.size)
    return moof + box(b"mdat", *(sample.data for sample in samples))


def _moof(track_id: int, sequence: int, base_decode_time: int, samples: Sequence[Sample], data_offset: int) -> bytes:
    table = b"".join(
        _SAMPLE.pack(sample.duration, len(sample.data), sample.flags, sample.composition_offset) for sample in samples
    )
    trun = full_box(b"trun", 0, _TRUN_FLAGS, struct.pack(">Ii", len(samples), data_offset), table)
    traf = box(
        b"traf",
        full_box(b"tfhd", 0, _TFHD_DEFAULT_BASE_IS_MOOF, struct.pack(">I", track_id)),
        full_box(b"tfdt", 1, 0, struct.pack(">Q", base_decode_time)),
        trun,
    )
    return box(b"moof", full_box(b"mfhd", 0, 0, struct.pack(">I", sequence)), traf)


def top_boxes(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """The top-level boxes of ``data``, as (type, whole box) pairs; a box running past the end ends the listing."""
    position = 0
    while position + _HEADER.size <= len(data):
        size, kind = _HEADER.unpack_from(data, position)
        if size == 1:  # 64-bit size after the type
            size = struct.unpack_from(">Q", data, position + _HEADER.size)[0]
        elif size == 0:  # to the end of the file
            size = len(data) - position
        if size < _HEADER.size or position + size > len(data):
            return
        yield kind, data[position : position + size]
        position += size
