"""Read a stored fragment once, then decode only the frames a request needs.

``open_fragment`` demuxes every packet into memory (cheap) and lists the frames in presentation order.
The caller groups its wanted frames by ``DemuxedFragment.gop_of`` and runs ``DemuxedFragment.steps`` for each
GOP holding one: it decodes from the GOP's key frame forward in decode order only until the wanted frames of
that GOP have come out; GOPs without a wanted frame are never touched. H.264 and HEVC skip, on the way, the
pictures nothing refers to (non-reference B- and P-frames) unless one is itself wanted: a sample costs its
reference chain plus itself. GOPs are independent, so they can be decoded in parallel, one fresh decoder each.

Frames outside the presentation window the splitter tagged (pre-roll and trailing frames an MP4 edit list
left out) are decoded when a presented frame needs them but never listed or returned.

Opening skips libavformat's stream probing decode: ``avformat_find_stream_info`` would otherwise decode
about seven H.264 frames per fragment (50 ms at 1080p) only to learn the pixel format, which nothing here
uses; every decoder is created from the codec and its extradata.
"""

from __future__ import annotations

import bisect
import io
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction

import av
import av.codec
import av.video.codeccontext

from stillframe.errors import MediaError
from stillframe.media import chain
from stillframe.media import display as display_tags
from stillframe.media.demux import (
    MAX_PICTURE_PIXELS,
    MILLISECONDS,
    TimedPacket,
    check_picture_size,
    iter_packets,
    presentation_window,
    time_base_of,
    to_ms,
    video_stream,
)

logger = logging.getLogger(__name__)

# Stored fragments are always our own Matroska (the splitter writes nothing else). Options given to av.open also
# reach the decoders avformat_find_stream_info opens to probe each stream: "skip_frame: all" makes them decode
# nothing (stream parameters come from the Matroska track header and the codec's extradata).
_FRAGMENT_FORMAT = "matroska"
_PROBE_OPTIONS = {"skip_frame": "all"}
# Decoders whose skip_frame NONREF skips exactly the pictures no other picture refers to (H.264 nal_ref_idc 0,
# HEVC sub-layer non-reference NAL types), read per slice at decode time, so it can be switched packet by packet.
# VP9 and the rest keep the full decode from the key frame.
_SKIPS_NONREF = frozenset({"h264", "hevc"})
_CHECK_EVERY = 64  # packets demuxed between two deadline checks (~10 ms of demuxing)


@dataclass(frozen=True)
class FrameInfo:
    """A frame's place in the fragment: presentation time relative to the first presented frame."""

    offset_ms: int
    duration_ms: int


@dataclass(frozen=True)
class _Gop:
    """A decode task: packets from a key frame on, the frame rank each packet presents, and the ranks it serves."""

    packets: tuple[TimedPacket, ...]
    frame_of_packet: tuple[int, ...]
    frames: frozenset[int]  # the GOP's own frames, and the next GOP's leading pictures


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
        window: tuple[int, int] | None = None,
        display: display_tags.Display | None = None,
        key: str | None = None,
    ) -> None:
        order = sorted(range(len(packets)), key=lambda i: packets[i].pts)  # presentation order
        frame_of_packet = [0] * len(packets)  # presentation rank of each packet, presented or not
        for frame_index, packet_index in enumerate(order):
            frame_of_packet[packet_index] = frame_index
        # Frames (public indices) are the presented ranks [first, end), renumbered from 0.
        first, end = _presented_ranks([packets[i] for i in order], time_base, window)
        presented = order[first:end]
        if not presented:
            raise MediaError("the fragment presents no frames")
        origin = _ms(packets[presented[0]].pts, time_base)
        self.frames: Sequence[FrameInfo] = tuple(_frame_info(packets[i], time_base, origin) for i in presented)
        last = self.frames[-1]
        self.duration_ms = last.offset_ms + last.duration_ms
        self.width, self.height = width, height
        self.display = display or display_tags.Display()
        self.frames_decoded = 0
        self._codec, self._extradata = codec, extradata
        self._gops = _split_gops(packets, frame_of_packet)
        self._gop_of_frame = {
            rank - first: n for n, gop in enumerate(self._gops) for rank in gop.frames if first <= rank < end
        }
        self._first = first
        self._offsets = [frame.offset_ms for frame in self.frames]
        self._lock = threading.Lock()
        self.key = key  # the stored blob's key: names this fragment's parked decoders across pages

    def frame_index_at(self, offset_ms: int) -> int | None:
        """Index of the frame on screen at ``offset_ms`` (last frame starting at or before it), or None outside."""
        if offset_ms < 0 or offset_ms >= self.duration_ms:
            return None
        return bisect.bisect_right(self._offsets, offset_ms) - 1

    def gop_of(self, index: int) -> int | None:
        """The GOP holding frame ``index``, or None before the first key frame (IndexError outside the fragment)."""
        if not 0 <= index < len(self.frames):
            raise IndexError(f"frame index {index} is outside 0..{len(self.frames) - 1}")
        return self._gop_of_frame.get(index)

    def steps(
        self,
        gop_number: int,
        wanted: set[int],
        follow: Iterable[int] = (),
        interrupted: Callable[[], bool] = chain.never,
    ) -> Iterator[chain.Step]:
        """Yield (frame index, frame) for the GOP's wanted frames as the decoder returns them, and None after each
        packet decoded: a point where the caller may pause this GOP to run other work, and resume it later.

        A caller can render each frame while the next decodes, holding one picture at a time instead of a GOP's
        worth. Thread-safe: GOPs of one fragment may be decoded by several threads at once (one GOP's steps by one
        thread at a time). H.264 and HEVC decode only the reference pictures up to the last wanted one plus the
        wanted pictures themselves (``_iter_chain``); other codecs decode every picture from the key frame on until
        the wanted ones have come out. ``interrupted`` is asked before each packet; True raises
        ``chain.DecodeInterrupted``, so one request's decoding stops at its deadline however long the GOP.
        """
        gop = self._gops[gop_number]
        missing = {index + self._first for index in wanted}  # in ranks, like _Gop.frame_of_packet
        try:
            if self._codec.name in _SKIPS_NONREF:
                try:
                    followed = frozenset(index + self._first for index in follow)
                    for step in self._iter_chain(gop_number, missing, followed, interrupted):
                        yield None if step is None else (step[0] - self._first, step[1])
                except chain.Untimed:  # cannot tell the frames apart without timestamps: decode the rest in full
                    pass
            for step in self._iter_all(gop, missing, interrupted):
                yield None if step is None else (step[0] - self._first, step[1])
        except (av.FFmpegError, ValueError) as exc:
            raise MediaError(f"cannot decode the fragment: {exc}") from exc
        if missing:
            raise MediaError("cannot decode the fragment: the decoder did not return every frame of a GOP")

    def _iter_chain(
        self, gop_number: int, missing: set[int], follow: frozenset[int], interrupted: Callable[[], bool]
    ) -> Iterator[chain.Step]:
        """The wanted frames (ranks, removed from ``missing``): the reference chain and them only (``media.chain``).

        With a ``key`` the decoder may continue one an earlier page parked under this fragment and GOP, and is
        parked again when ``follow`` names frames of this GOP a next page will want.
        """
        if not missing:
            return
        gop = self._gops[gop_number]
        key = (self.key, gop_number) if self.key is not None else None
        parked, expired = chain.PARKED.take(key) if key is not None else (None, [])
        position_of = {rank: i for i, rank in enumerate(gop.frame_of_packet)}
        if parked is not None and not parked.serves(missing, position_of):
            expired.append(parked)
            parked = None
        for old in expired:
            chain.retire(old, self._count_decoded)
        run = chain.decode_chain(
            [timed.packet for timed in gop.packets],
            gop.frame_of_packet,
            [timed.pts for timed in gop.packets],
            missing,
            follow=follow & position_of.keys() if key is not None else frozenset(),
            parked=parked,
            new_decoder=lambda: _new_decoder(self._codec, self._extradata),
            count=self._count_decoded,
            interrupted=interrupted,
        )
        kept = yield from run
        if kept is not None and key is not None:
            for old in chain.PARKED.park(key, kept):
                chain.retire(old, self._count_decoded)

    def _iter_all(self, gop: _Gop, missing: set[int], interrupted: Callable[[], bool]) -> Iterator[chain.Step]:
        """The wanted frames (ranks, removed from ``missing``), decoding every packet from the key frame on."""
        if not missing:
            return
        decoder = _new_decoder(self._codec, self._extradata)
        pts_to_frame = {timed.pts: frame for timed, frame in zip(gop.packets, gop.frame_of_packet, strict=True)}
        out_order = sorted(gop.frame_of_packet)  # frames leave the decoder in presentation order
        emitted = 0
        for timed in (*gop.packets, None):
            if interrupted():
                raise chain.DecodeInterrupted
            if timed is not None:
                self._count_decoded()
            for frame in decoder.decode(timed.packet if timed is not None else None):
                rank = pts_to_frame.get(frame.pts) if frame.pts is not None else None
                rank = rank if rank is not None else out_order[min(emitted, len(out_order) - 1)]
                emitted += 1
                if rank in missing:
                    missing.discard(rank)
                    yield rank, frame
            if not missing:
                return
            yield None

    def _count_decoded(self) -> None:
        with self._lock:
            self.frames_decoded += 1


def open_fragment(
    data: bytes, key: str | None = None, interrupted: Callable[[], bool] = chain.never
) -> DemuxedFragment:
    """Demux a stored fragment (our Matroska) into memory; MediaError if unreadable.

    ``key`` (the blob's store key) lets its GOPs continue decoders parked by an earlier page (``media.chain``).
    ``interrupted`` is asked every ``_CHECK_EVERY`` packets (``chain.DecodeInterrupted``): demuxing costs Python
    work per packet, and a fragment stored with tens of thousands of frames would otherwise hold the GIL for seconds.
    """
    if not data:
        raise MediaError("cannot parse the fragment: it is empty")
    try:
        container = av.open(io.BytesIO(data), mode="r", format=_FRAGMENT_FORMAT, options=_PROBE_OPTIONS)
    except (av.FFmpegError, ValueError) as exc:
        raise MediaError(f"cannot parse the fragment: {exc}") from exc
    with container:
        stream = video_stream(container)
        packets: list[TimedPacket] = []
        for packet in iter_packets(container, stream):
            if len(packets) % _CHECK_EVERY == 0 and interrupted():
                raise chain.DecodeInterrupted
            packets.append(packet)
        if not packets:
            raise MediaError("the fragment holds no video frames")
        context = stream.codec_context
        check_picture_size(context.width, context.height)
        return DemuxedFragment(
            packets,
            time_base_of(stream),
            context.codec,
            context.extradata,
            context.width,
            context.height,
            window=presentation_window(container.metadata),
            display=display_tags.from_tags(container.metadata),
            key=key,
        )


def _presented_ranks(
    ordered: list[TimedPacket], time_base: Fraction, window: tuple[int, int] | None
) -> tuple[int, int]:
    """The presentation ranks [first, end) of the frames starting inside ``window``; all frames without one."""
    if window is None:
        return 0, len(ordered)
    earliest = _ms(ordered[0].pts, time_base)
    starts = [_ms(packet.pts, time_base) - earliest for packet in ordered]
    return bisect.bisect_left(starts, window[0]), bisect.bisect_left(starts, window[1])


def _ms(ticks: int, time_base: Fraction) -> int:
    return ticks if time_base == MILLISECONDS else to_ms(ticks, time_base)


def _frame_info(packet: TimedPacket, time_base: Fraction, origin: int) -> FrameInfo:
    if time_base == MILLISECONDS:  # Matroska's usual time base: ticks are already ms (skips Fraction arithmetic)
        return FrameInfo(offset_ms=packet.pts - origin, duration_ms=max(1, packet.duration))
    start = to_ms(packet.pts, time_base)
    return FrameInfo(
        offset_ms=start - origin, duration_ms=max(1, to_ms(packet.pts + packet.duration, time_base) - start)
    )


def _split_gops(packets: list[TimedPacket], frame_of_packet: list[int]) -> list[_Gop]:
    """Cut the decode-order packets at key frames into decode tasks; packets before the first key frame belong to none.

    A task decodes one GOP, and also the next GOP's leading pictures (open GOPs: shown before the next key frame,
    referencing this GOP), so its packets run on through the next key frame to its last leading picture. Frames
    are assigned to the task that shows them (``_Gop.frames``); closed GOPs give the plain key-frame cut.
    """
    starts = [i for i, packet in enumerate(packets) if packet.keyframe]
    ends = [*starts[1:], len(packets)]
    bounds = list(zip(starts, ends, strict=True))
    leading = [[i for i in range(a + 1, b) if packets[i].pts < packets[a].pts] for a, b in bounds]
    tasks = []
    for n, (a, b) in enumerate(bounds):
        skip = set(leading[n])
        own = [i for i in range(a, b) if i not in skip]
        borrowed = leading[n + 1] if n + 1 < len(starts) else []
        stop = borrowed[-1] + 1 if borrowed else b
        frames = frozenset(frame_of_packet[i] for i in (*own, *borrowed))
        tasks.append(_Gop(tuple(packets[a:stop]), tuple(frame_of_packet[a:stop]), frames))
    return tasks


def _new_decoder(codec: av.codec.Codec, extradata: bytes | None) -> av.video.codeccontext.VideoCodecContext:
    """A fresh single-threaded decoder: two threads with one decoder each beat slice threading here."""
    decoder = av.CodecContext.create(codec, "r")
    if not isinstance(decoder, av.video.codeccontext.VideoCodecContext):
        raise MediaError(f"cannot decode the fragment: {codec.name} is not a video codec")
    if extradata:
        decoder.extradata = extradata
    decoder.thread_count = 1
    # libavcodec refuses a picture over the limit before allocating it, whatever the container's header said
    decoder.options = {"max_pixels": str(MAX_PICTURE_PIXELS)}
    return decoder
