"""A stored fragment read for its segments: its tracks and packets in decode order, where its presentation starts
and ends, and, for open GOPs, its packets in the original stream's order (``joined_open_gops``).

Fragments cut before an open key frame end with a decode-only copy of that key frame and the leading pictures decoded
from it (docs/api-rules.md, "Every presented frame is reachable"). A segment of such a fragment leaves the copy and
the leading pictures out; the next fragment's segment carries the leading pictures after its key frame, as the
original stream had them. Each picture is then in the stream once (a copy and its original share one timestamp: a
player appending both would drop the leading pictures), and a segment decodes after the one before it, as any
open-GOP stream does.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from fractions import Fraction

import av
import av.container
import av.stream
from av.stream import Discard

from stillframe.errors import MediaError
from stillframe.media.demux import MILLISECONDS, presentation_window
from stillframe.media.segment_timing import StoredPacket

_FRAGMENT_OPTIONS = {"skip_frame": "all"}  # stream parameters come from the Matroska track header: decode nothing
# An init segment needs the track header only: no packets are read ahead (a third of the time). The probing is kept
# where packets are used: it is what fills in audio packet durations, which Matroska blocks do not carry.
_HEADER_ONLY_OPTIONS = _FRAGMENT_OPTIONS | {"probesize": "32", "analyzeduration": "0"}


@dataclass(frozen=True)
class StoredFragment:
    """A fragment's tracks and their packets in decode order; ``origin_ms``: its first presented video frame."""

    streams: Sequence[av.stream.Stream]
    packets: Sequence[Sequence[StoredPacket]]
    origin_ms: int
    presented_until_ms: int | None = None  # frames starting at or after it are decode-only (the window's end)

    def video_index(self) -> int | None:
        return next((s.index for s in self.streams if s.type == "video" and self.packets[s.index]), None)

    def open_gop_tail(self) -> int | None:
        """Where the video ends with a decode-only copy of the next fragment's open key frame (its index in decode
        order), followed by the leading pictures decoded from it; None when it does not."""
        video = self.video_index()
        if video is None or self.presented_until_ms is None:
            return None
        packets = self.packets[video]
        key = max((at for at, timed in enumerate(packets) if timed.keyframe), default=None)
        if key is None or key == 0 or packets[key].pts_ms < self.presented_until_ms:
            return None
        return key


@contextmanager
def opened(fragment: bytes, *, packets: bool = True, track: int | None = None) -> Iterator[StoredFragment]:
    """The fragment demuxed (its packets in memory), its streams usable as templates until the block ends.

    ``track``: only that track's packets and the video's (which place the fragment's start) are read.
    """
    try:
        options = _FRAGMENT_OPTIONS if packets else _HEADER_ONLY_OPTIONS
        container = av.open(io.BytesIO(fragment), mode="r", format="matroska", options=options)
    except (av.FFmpegError, ValueError) as exc:
        raise MediaError(f"cannot parse the fragment: {exc}") from exc
    try:
        streams = list(container.streams)
        demuxed: list[list[StoredPacket]] = [[] for _ in streams]
        if packets:
            wanted = [s for s in streams if track is None or s.index + 1 == track or s.type == "video"]
            _demux(container, wanted, demuxed)
        yield StoredFragment(
            streams,
            demuxed,
            _origin_ms(streams, demuxed, container.metadata),
            _presented_until_ms(streams, demuxed, container.metadata),
        )
    finally:
        container.close()


@contextmanager
def opened_previous(previous: bytes | None) -> Iterator[StoredFragment | None]:
    """The previous fragment's video demuxed (its packets live until the block ends), or None."""
    if previous is None:
        yield None
        return
    with opened(previous, track=0) as parsed:
        yield parsed


def joined_open_gops(
    parsed: StoredFragment, before: StoredFragment | None, start_ms: int, previous_start_ms: int
) -> Sequence[StoredPacket]:
    """The fragment's video packets as the original stream had them around open key frames (docs/api-rules.md,
    "Every presented frame is reachable"): a decode-only copy of the next fragment's key frame at its end goes,
    with the leading pictures behind it (the next segment carries them); the leading pictures of its own first key
    frame, stored at the end of ``before``, follow that key frame. Each picture is then in the stream once (a copy
    and its original share one timestamp: a player appending both would drop the leading pictures), and a segment
    decodes after the one before it, as any open-GOP stream does."""
    video = parsed.video_index()
    assert video is not None
    packets = list(parsed.packets[video])
    tail = parsed.open_gop_tail()
    if tail is not None:
        packets = packets[:tail]
    if before is None or not packets or not packets[0].keyframe:
        return packets
    copy = before.open_gop_tail()
    earlier = before.video_index()
    if copy is None or earlier is None:
        return packets
    # ``before``'s stored times on this fragment's: both fragments' starts are on the session's timeline
    shift = (previous_start_ms - before.origin_ms) - (start_ms - parsed.origin_ms)
    stored = before.packets[earlier]
    if stored[copy].pts_ms + shift != packets[0].pts_ms:
        return packets  # not this key frame's copy (a gap, or another stream's history)
    leading = [replace(timed, pts_ms=timed.pts_ms + shift) for timed in stored[copy + 1 :]]
    return [packets[0], *leading, *packets[1:]]


def _demux(
    container: av.container.InputContainer, wanted: list[av.stream.Stream], into: list[list[StoredPacket]]
) -> None:
    # Matroska's time base is 1 ms: the conversion is exact, and skipped when it is already ms.
    scales = {stream.index: Fraction(stream.time_base or MILLISECONDS) * 1000 for stream in wanted}
    for stream in container.streams:
        if stream not in wanted:
            stream.discard = Discard.all
    try:
        for packet in container.demux(wanted):
            if packet.size and packet.pts is not None:
                scale = scales[packet.stream.index]
                pts, duration = packet.pts, packet.duration or 0
                if scale != 1:
                    pts, duration = round(pts * scale), round(duration * scale)
                into[packet.stream.index].append(StoredPacket(packet, pts, duration, bool(packet.is_keyframe)))
    except av.FFmpegError as exc:
        raise MediaError(f"cannot parse the fragment: {exc}") from exc


def _origin_ms(
    streams: Sequence[av.stream.Stream], packets: Sequence[Sequence[StoredPacket]], tags: dict[str, str]
) -> int:
    """The first presented video frame (the presentation window's first, as ``clip_mux``), else the first packet."""
    video = next((stream.index for stream in streams if stream.type == "video" and packets[stream.index]), None)
    if video is None:
        return min((timed.pts_ms for track in packets for timed in track), default=0)
    starts = sorted(timed.pts_ms for timed in packets[video])
    window = presentation_window(tags)
    if window is None:
        return starts[0]
    return next((start for start in starts if start >= starts[0] + window[0]), starts[0])


def _presented_until_ms(
    streams: Sequence[av.stream.Stream], packets: Sequence[Sequence[StoredPacket]], tags: dict[str, str]
) -> int | None:
    """The stored time from which video frames are decode-only (the presentation window's end), or None."""
    window = presentation_window(tags)
    video = next((stream.index for stream in streams if stream.type == "video" and packets[stream.index]), None)
    if window is None or video is None:
        return None
    return min(timed.pts_ms for timed in packets[video]) + window[1]
