"""Read a stored fragment once, then decode only the frames a request needs.

``open_fragment`` demuxes every packet into memory (cheap) and lists the frames in presentation order.
``DemuxedFragment.decode`` then decodes, for each GOP holding a wanted frame, from the GOP's key frame
forward in decode order only until the wanted frames of that GOP have come out; GOPs without a wanted
frame are never touched. GOPs are independent, so they can be decoded in parallel, one fresh decoder each.
"""

from __future__ import annotations

import bisect
import concurrent.futures
import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import av
import av.codec
import av.video.codeccontext
import av.video.frame

from stillframe.errors import MediaError
from stillframe.media.demux import TimedPacket, iter_packets, open_input, time_base_of, to_ms, video_stream

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FrameInfo:
    """A frame's place in the fragment: presentation time relative to the first presented frame."""

    offset_ms: int
    duration_ms: int


@dataclass(frozen=True)
class _Gop:
    """Decode-order packets from one key frame to the next, and the frame index each packet presents."""

    packets: tuple[TimedPacket, ...]
    frame_of_packet: tuple[int, ...]


class DemuxedFragment:
    """A fragment's packets, held in memory, ready for least-effort decoding."""

    def __init__(
        self,
        packets: list[TimedPacket],
        time_base: Fraction,
        codec: av.codec.Codec,
        extradata: bytes | None,
        width: int,
        height: int,
    ) -> None:
        order = sorted(range(len(packets)), key=lambda i: packets[i].pts)  # presentation order
        frame_of_packet = [0] * len(packets)
        for frame_index, packet_index in enumerate(order):
            frame_of_packet[packet_index] = frame_index
        origin = to_ms(packets[order[0]].pts, time_base)
        self.frames: Sequence[FrameInfo] = tuple(_frame_info(packets[i], time_base, origin) for i in order)
        last = self.frames[-1]
        self.duration_ms = last.offset_ms + last.duration_ms
        self.width, self.height = width, height
        self.frames_decoded = 0
        self._codec, self._extradata = codec, extradata
        self._gops = _split_gops(packets, frame_of_packet)
        self._gop_of_frame = {frame: n for n, gop in enumerate(self._gops) for frame in gop.frame_of_packet}
        self._offsets = [frame.offset_ms for frame in self.frames]
        self._lock = threading.Lock()

    def frame_index_at(self, offset_ms: int) -> int | None:
        """Index of the frame on screen at ``offset_ms`` (last frame starting at or before it), or None outside."""
        if offset_ms < 0 or offset_ms >= self.duration_ms:
            return None
        return bisect.bisect_right(self._offsets, offset_ms) - 1

    def decode(
        self, wanted: Iterable[int], executor: concurrent.futures.Executor | None = None
    ) -> dict[int, av.video.frame.VideoFrame]:
        """Decode the wanted frames (indices into ``frames``); each GOP from its key frame, once."""
        by_gop: dict[int, set[int]] = {}
        for index in set(wanted):
            if not 0 <= index < len(self.frames):
                raise IndexError(f"frame index {index} is outside 0..{len(self.frames) - 1}")
            gop = self._gop_of_frame.get(index)
            if gop is None:
                raise MediaError("the frame precedes the fragment's first key frame and cannot be decoded")
            by_gop.setdefault(gop, set()).add(index)
        jobs = sorted(by_gop.items())
        if executor is None:
            results = [self._decode_gop(gop, frames) for gop, frames in jobs]
        else:
            futures = [executor.submit(self._decode_gop, gop, frames) for gop, frames in jobs]
            results = [future.result() for future in futures]
        decoded: dict[int, av.video.frame.VideoFrame] = {}
        for result in results:
            decoded.update(result)
        return decoded

    def _decode_gop(self, gop_number: int, wanted: set[int]) -> dict[int, av.video.frame.VideoFrame]:
        """Decode one GOP with its own decoder, stopping as soon as every wanted frame has come out."""
        gop = self._gops[gop_number]
        decoder = _new_decoder(self._codec, self._extradata)
        pts_to_frame = {timed.pts: frame for timed, frame in zip(gop.packets, gop.frame_of_packet, strict=True)}
        out_order = sorted(gop.frame_of_packet)  # frames leave the decoder in presentation order
        found: dict[int, av.video.frame.VideoFrame] = {}
        emitted = 0
        try:
            for timed in (*gop.packets, None):
                if timed is not None:
                    self._count_sent()
                for frame in decoder.decode(timed.packet if timed is not None else None):
                    index = pts_to_frame.get(frame.pts) if frame.pts is not None else None
                    index = index if index is not None else out_order[min(emitted, len(out_order) - 1)]
                    emitted += 1
                    if index in wanted:
                        found[index] = frame
                if len(found) == len(wanted):
                    return found
        except (av.FFmpegError, ValueError) as exc:
            raise MediaError(f"cannot decode the fragment: {exc}") from exc
        raise MediaError("cannot decode the fragment: the decoder did not return every frame of a GOP")

    def _count_sent(self) -> None:
        with self._lock:
            self.frames_decoded += 1


def open_fragment(data: bytes) -> DemuxedFragment:
    """Demux a fragment (any container, normally our Matroska) into memory; MediaError if unreadable."""
    with open_input(data) as container:
        stream = video_stream(container)
        packets = list(iter_packets(container, stream))
        if not packets:
            raise MediaError("the fragment holds no video frames")
        context = stream.codec_context
        return DemuxedFragment(
            packets, time_base_of(stream), context.codec, context.extradata, context.width, context.height
        )


def _frame_info(packet: TimedPacket, time_base: Fraction, origin: int) -> FrameInfo:
    start = to_ms(packet.pts, time_base)
    return FrameInfo(
        offset_ms=start - origin, duration_ms=max(1, to_ms(packet.pts + packet.duration, time_base) - start)
    )


def _split_gops(packets: list[TimedPacket], frame_of_packet: list[int]) -> list[_Gop]:
    """Cut the decode-order packets at key frames; packets before the first key frame belong to no GOP."""
    starts = [i for i, packet in enumerate(packets) if packet.keyframe]
    bounds = zip(starts, [*starts[1:], len(packets)], strict=True)
    return [_Gop(tuple(packets[a:b]), tuple(frame_of_packet[a:b])) for a, b in bounds]


def _new_decoder(codec: av.codec.Codec, extradata: bytes | None) -> av.video.codeccontext.VideoCodecContext:
    """A fresh single-threaded decoder: two threads with one decoder each beat slice threading here."""
    decoder = av.CodecContext.create(codec, "r")
    if not isinstance(decoder, av.video.codeccontext.VideoCodecContext):
        raise MediaError(f"cannot decode the fragment: {codec.name} is not a video codec")
    if extradata:
        decoder.extradata = extradata
    decoder.thread_count = 1
    return decoder
