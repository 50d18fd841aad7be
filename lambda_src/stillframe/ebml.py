"""The EBML framing of Matroska, as the parts that read or write it without a media library need it.

Element IDs (as integers, marker bits included), how long a variable-size integer is from its first byte, and
writing elements with 8-byte sizes (what FFmpeg's muxer writes, so a size can be patched in place). The streaming
cluster reader (``media.mkv_stream``), the tag writer (``media.fragment_tags``) and put-media's session bodies
(``uploader.clusters``) share it; it imports nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

EBML_HEADER = 0x1A45DFA3
SEGMENT = 0x18538067
INFO = 0x1549A966
TIMECODE_SCALE = 0x2AD7B1
TRACKS = 0x1654AE6B
TAGS = 0x1254C367
TAG = 0x7373
SIMPLE_TAG = 0x67C8
TAG_NAME = 0x45A3
TAG_STRING = 0x4487
CLUSTER = 0x1F43B675
CLUSTER_TIMECODE = 0xE7
SIMPLE_BLOCK = 0xA3
BLOCK_GROUP = 0xA0
DEFAULT_TIMECODE_SCALE_NS = 1_000_000  # 1 ms per timecode unit
UNKNOWN_SIZE = b"\x01\xff\xff\xff\xff\xff\xff\xff"  # an 8-byte size meaning "runs to the end of its parent"


def vint_length(first: int, longest: int = 8) -> int:
    """How many bytes a variable-size integer (an ID: ``longest`` 4, a size: 8) starting with ``first`` takes;
    ValueError when the byte starts none."""
    for length in range(1, longest + 1):
        if first & (0x80 >> (length - 1)):
            return length
    raise ValueError("an element header is not valid EBML")


def id_bytes(element_id: int) -> bytes:
    """An element ID as it is written (its marker bit tells its length)."""
    return element_id.to_bytes(max(1, (element_id.bit_length() + 7) // 8), "big")


def size_bytes(size: int | None) -> bytes:
    """An 8-byte size; None for the unknown size."""
    return UNKNOWN_SIZE if size is None else (size | (1 << 56)).to_bytes(8, "big")


def element(element_id: int, payload: bytes) -> bytes:
    """One element with an 8-byte size."""
    return id_bytes(element_id) + size_bytes(len(payload)) + payload


def short_element(element_id: int, payload: bytes) -> bytes:
    """One element of fewer than 127 bytes with a 1-byte size (a Timecode, as muxers write it)."""
    if len(payload) >= 0x7F:
        raise ValueError("a 1-byte size holds at most 126 bytes")
    return id_bytes(element_id) + bytes([0x80 | len(payload)]) + payload


def uint(data: bytes) -> int:
    """An unsigned integer element's value (empty: 0)."""
    return int.from_bytes(data, "big") if data else 0


def uint_bytes(value: int) -> bytes:
    """An unsigned integer element's payload, as short as it goes."""
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


def tags_element(tags: Mapping[str, str]) -> bytes:
    """A Tags element with one Tag holding a SimpleTag (name, string) per entry."""
    simple = b"".join(
        element(SIMPLE_TAG, element(TAG_NAME, name.encode()) + element(TAG_STRING, value.encode()))
        for name, value in tags.items()
    )
    return element(TAGS, element(TAG, simple))
