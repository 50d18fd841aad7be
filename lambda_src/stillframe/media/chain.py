"""Decode a GOP's reference chain, and keep the decoder between the pages of one range to continue from there.

A page of a paginated range often ends mid-GOP where the next page goes on (200 ms samples of 2 s GOPs). A fresh
decoder for the next page would decode that GOP's reference chain again from its key frame; a kept one continues
from the packet after the last one it was fed. The catch is the decoder's delay: with B-frames a picture leaves
the decoder only after later reference pictures have entered it, and draining (the usual way to get the last
wanted pictures out) ends the decoder. So when the caller names the frames the next page will want in the GOP
(``follow``), the decoder is fed on past the last wanted packet instead of drained: reference pictures only (which
the next page needs anyway) and the followed frames themselves, until this page's pictures are out; followed
pictures that come out early are kept with it. The decoder is then parked in a small per-process cache under
(fragment, GOP); the next page continues it only if everything it wants can still come out of it, otherwise it
starts afresh. Pictures are those of a fresh decode (the same packets in the same order, a continued decoder just
skips re-decoding the prefix).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import av
import av.video.codeccontext
import av.video.frame

Decoder = av.video.codeccontext.VideoCodecContext
Frame = av.video.frame.VideoFrame
# What a decoding generator yields: a wanted frame (rank, picture), or None after each packet it decoded, where its
# caller may pause it (and run another request's work) before going on.
Step = tuple[int, Frame] | None

MAX_PARKED = 4  # decoders kept per process: a paginator walks one range at a time; a few for concurrent walks
MAX_PARKED_BYTES = 192 * 1024 * 1024  # estimated, all parked decoders together
MAX_AGE_S = 30.0  # a paginator asks for its next page at once; older decoders are dropped
_PICTURES_HELD = 8  # estimate of reference and delayed pictures a parked decoder holds, for the byte bound


class DecodeInterrupted(Exception):
    """The caller's ``interrupted`` said stop (a page past its deadline, or one that needs no more): no frame."""


def never() -> bool:
    """An ``interrupted`` that never interrupts."""
    return False


class Untimed(Exception):
    """The decoder returned a frame without a timestamp: which frame it is cannot be told while pictures are skipped."""


@dataclass
class Parked:
    """A decoder left mid-GOP: where to feed on, and what it can still return."""

    decoder: Decoder
    position: int  # the next packet (decode order) to feed
    fed: set[int]  # ranks fed in full whose picture has not come out yet
    kept: dict[int, Frame]  # followed ranks that came out early
    size: int  # estimated bytes held
    parked_at: float = field(default_factory=time.monotonic)

    def serves(self, wanted: set[int], position_of: dict[int, int]) -> bool:
        """Whether every wanted rank can still come out: kept, fed and pending, or not fed yet."""
        return all(r in self.kept or r in self.fed or position_of[r] >= self.position for r in wanted)


class ParkedDecoders:
    """Parked decoders by (fragment key, GOP), least recently parked out first; thread-safe, one user at a time."""

    def __init__(self, max_entries: int = MAX_PARKED, max_bytes: int = MAX_PARKED_BYTES) -> None:
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._parked: OrderedDict[tuple[str, int], Parked] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: tuple[str, int]) -> tuple[Parked | None, list[Parked]]:
        """The decoder parked under ``key`` (now the caller's alone), and the expired ones the caller must retire."""
        with self._lock:
            expired = self._expire()
            return self._parked.pop(key, None), expired

    def park(self, key: tuple[str, int], parked: Parked) -> list[Parked]:
        """Keep ``parked``; returns what it pushed out (and anything expired), for the caller to retire."""
        with self._lock:
            out = self._expire()
            if (old := self._parked.pop(key, None)) is not None:
                out.append(old)
            self._parked[key] = parked
            while len(self._parked) > self.max_entries or sum(p.size for p in self._parked.values()) > self.max_bytes:
                out.append(self._parked.popitem(last=False)[1])
            return out

    def __len__(self) -> int:
        return len(self._parked)

    def _expire(self) -> list[Parked]:
        now = time.monotonic()
        old = [key for key, parked in self._parked.items() if now - parked.parked_at > MAX_AGE_S]
        return [self._parked.pop(key) for key in old]


PARKED = ParkedDecoders()


def retire(parked: Parked, count: Callable[[], None]) -> None:
    """Drain a decoder nobody continues: its pending pictures were decoded, so they are counted, then dropped."""
    try:
        for _ in parked.decoder.decode(None):
            count()
    except av.FFmpegError:
        pass


def decode_chain(
    packets: Sequence[av.Packet],
    ranks: Sequence[int],
    pts: Sequence[int],
    missing: set[int],
    *,
    follow: frozenset[int] = frozenset(),
    parked: Parked | None,
    new_decoder: Callable[[], Decoder],
    count: Callable[[], None],
    interrupted: Callable[[], bool] = never,
) -> Generator[Step, None, Parked | None]:
    """Yield the ``missing`` ranks' frames (removing them), decoding the reference chain and them only.

    Before each packet the decoder is told to skip it if nothing refers to it (``skip_frame`` NONREF: H.264
    nal_ref_idc 0, HEVC sub-layer non-reference pictures), except a wanted or followed frame's own packet (DEFAULT).
    A skipped picture returns no frame, so frames returned (``count``) are pictures decoded. Continues ``parked``
    when given (the caller checked ``Parked.serves``). Returns the decoder to park, or None when it was drained.
    ``interrupted`` is asked before each packet: True raises DecodeInterrupted (the decoder is dropped). Yields
    None after each packet fed (a point to pause at).
    """
    run = _Run(dict(zip(pts, ranks, strict=True)), missing, follow, count)
    if parked is not None:
        decoder, position, run.fed, kept = parked.decoder, parked.position, parked.fed, parked.kept
        for rank in sorted(missing & kept.keys()):  # counted when they came out for the earlier page
            missing.discard(rank)
            yield rank, kept.pop(rank)
        run.kept = {rank: frame for rank, frame in kept.items() if rank in follow}
    else:
        decoder, position = new_decoder(), 0
    position_of = {rank: i for i, rank in enumerate(ranks)}
    last = max((position_of[rank] for rank in missing), default=position - 1)
    # Fed through the last wanted packet; then on (references and followed frames only) while this page's
    # pictures are still inside a decoder that is to be kept, since draining would end it.
    while position < len(packets) and (position <= last or (missing and follow)):
        if interrupted():
            raise DecodeInterrupted
        full = ranks[position] in missing or ranks[position] in follow
        decoder.skip_frame = "DEFAULT" if full else "NONREF"
        if full:
            run.fed.add(ranks[position])
        yield from run.take(decoder.decode(packets[position]))
        position += 1
        yield None
    if follow and position < len(packets) and not missing:
        return Parked(decoder, position, run.fed, run.kept, _held_bytes(decoder))
    yield from run.take(decoder.decode(None))
    return None


@dataclass
class _Run:
    """What one ``decode_chain`` call tracks while frames come out of its decoder."""

    rank_of_pts: dict[int, int]
    missing: set[int]
    follow: frozenset[int]
    count: Callable[[], None]
    fed: set[int] = field(default_factory=set)
    kept: dict[int, Frame] = field(default_factory=dict)

    def take(self, frames: Iterable[Frame]) -> Iterator[tuple[int, Frame]]:
        """Count the decoder's frames, yield the wanted ones and keep the followed ones."""
        for frame in frames:
            self.count()
            if frame.pts is None or frame.pts not in self.rank_of_pts:
                raise Untimed
            rank = self.rank_of_pts[frame.pts]
            self.fed.discard(rank)
            if rank in self.missing:
                self.missing.discard(rank)
                yield rank, frame
            elif rank in self.follow:
                self.kept[rank] = frame


def _held_bytes(decoder: Decoder) -> int:
    return decoder.width * decoder.height * 3 // 2 * _PICTURES_HELD
