"""A stored fragment rewritten as KVS sends it out: one Matroska file (EBML header, Segment, one Cluster) carrying
the fragment's ``AWS_KINESISVIDEO_*`` tags, its frames timed in the producer's timeline (ms), every track copied.

GetMediaForFragmentList answers the listed fragments as these files one after another, which is how KVS's parser
libraries read GetMedia-style output (a new EBML header starts each fragment).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from fractions import Fraction

import av

from stillframe.ebml import SEGMENT, id_bytes, size_bytes, tags_element, vint_length
from stillframe.errors import MediaError
from stillframe.media.demux import MILLISECONDS, presentation_window, to_ms

# As ``fragment_mux``: one cluster per fragment, no random UID or date.
_MUXER_OPTIONS = {"cluster_time_limit": "3600000", "cluster_size_limit": "2147483647", "fflags": "+bitexact"}


def tagged_fragment(data: bytes, tags: Mapping[str, str], producer_ms: int) -> bytes:
    """``data`` (a stored fragment) with ``tags`` added, its first presented frame at ``producer_ms``."""
    try:
        with av.open(io.BytesIO(data), mode="r", format="matroska", options={"skip_frame": "all"}) as source:
            packets = [packet for packet in source.demux() if packet.size and packet.pts is not None]
            origin = _origin_ms(source, packets)
            buffer = io.BytesIO()
            with av.open(buffer, mode="w", format="matroska", options=_MUXER_OPTIONS) as output:
                output.metadata.update(source.metadata)
                output.metadata.update(tags)
                tracks = [output.add_stream_from_template(stream, opaque=True) for stream in source.streams]
                for track in tracks:
                    track.time_base = MILLISECONDS
                for packet in packets:
                    base = Fraction(packet.time_base or MILLISECONDS)
                    pts = to_ms(packet.pts or 0, base) - origin + producer_ms
                    dts = pts if packet.dts is None else to_ms(packet.dts, base) - origin + producer_ms
                    duration = to_ms(packet.duration or 0, base)
                    packet.stream = tracks[packet.stream.index]
                    packet.time_base = MILLISECONDS
                    packet.pts, packet.dts, packet.duration = pts, dts, duration
                    output.mux(packet)
    except (av.FFmpegError, ValueError) as exc:
        raise MediaError(f"cannot rewrite the fragment: {exc}") from exc
    return buffer.getvalue()


def _origin_ms(source: av.container.InputContainer, packets: list[av.Packet]) -> int:
    """The pts (ms) of the first presented video frame: the fragment's start."""
    video = [packet for packet in packets if packet.stream.type == "video"]
    if not video:
        raise MediaError("the fragment has no video frames")
    earliest = min(to_ms(packet.pts or 0, Fraction(packet.time_base or MILLISECONDS)) for packet in video)
    window = presentation_window(source.metadata)
    return earliest + (window[0] if window else 0)


def with_trailing_tags(mkv: bytes, tags: Mapping[str, str]) -> bytes:
    """``mkv`` (one Matroska file as ``tagged_fragment`` writes it) with a Tags element after its cluster holding
    ``tags``: where KVS puts the tags that are known once a fragment is sent (its continuation token)."""
    header_size = _element_end(mkv, 0)  # the EBML header
    segment = id_bytes(SEGMENT)
    size_at = header_size + len(segment)
    if mkv[header_size:size_at] != segment:
        raise MediaError("not a Matroska file: no Segment after the EBML header")
    width = _size_width(mkv[size_at])
    size = int.from_bytes(mkv[size_at : size_at + width], "big") & ((1 << (7 * width)) - 1)
    if size != (1 << (7 * width)) - 1 and width != 8:
        raise MediaError("the Segment's size is not written in 8 bytes")  # what FFmpeg's muxer always writes
    trailer = tags_element(tags)
    if size == (1 << (7 * width)) - 1:  # unknown size: the Segment runs to the end, nothing to rewrite
        return mkv + trailer
    return mkv[:size_at] + size_bytes(size + len(trailer)) + mkv[size_at + 8 :] + trailer


def _size_width(first: int) -> int:
    try:
        return vint_length(first)
    except ValueError as exc:
        raise MediaError("not a Matroska file: bad element size") from exc


def _element_end(data: bytes, at: int) -> int:
    """Where the element at ``at`` (a 4-byte id, as top-level Matroska ids are) ends."""
    size_at = at + 4
    width = _size_width(data[size_at])
    size = int.from_bytes(data[size_at : size_at + width], "big") & ((1 << (7 * width)) - 1)
    return size_at + width + size


def kvs_tags(number: str, server_ms: int, producer_ms: int) -> dict[str, str]:
    """The tags KVS puts on each fragment it sends (names as its parser libraries read them; epoch seconds)."""
    return {
        "AWS_KINESISVIDEO_FRAGMENT_NUMBER": number,
        "AWS_KINESISVIDEO_SERVER_TIMESTAMP": _seconds(server_ms),
        "AWS_KINESISVIDEO_PRODUCER_TIMESTAMP": _seconds(producer_ms),
    }


def trailing_tags(continuation_token: str, millis_behind_now: int) -> dict[str, str]:
    """The tags KVS's GetMedia puts after each fragment: where a next request continues, and how far behind the
    newest fragment this one was when sent."""
    return {
        "AWS_KINESISVIDEO_CONTINUATION_TOKEN": continuation_token,
        "AWS_KINESISVIDEO_MILLIS_BEHIND_NOW": str(max(0, millis_behind_now)),
    }


def _seconds(ms: int) -> str:
    return f"{ms // 1000}.{ms % 1000:03d}"
