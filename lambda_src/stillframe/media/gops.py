"""Group an upload's packets into GOPs, and find the leading pictures of open GOPs.

A leading picture follows its GOP's key frame in decode order but is shown before it (pts below the key
frame's). In an open GOP (HEVC CRA with RASL pictures, x264 ``open-gop``, most broadcast MPEG-TS) it references
the previous GOP as well, so it can only be decoded from there. Closed GOPs have none.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

from stillframe.media.demux import TimedPacket

logger = logging.getLogger(__name__)

PER_PACKET_OVERHEAD = 16  # Matroska bytes per block besides its payload


@dataclass
class Gop:
    """Packets from one key frame up to the next, in decode order."""

    packets: list[TimedPacket] = field(default_factory=list)
    size: int = 0
    presented: int = 0  # packets not flagged discard

    @classmethod
    def of(cls, packets: list[TimedPacket]) -> Gop:
        """A GOP holding exactly ``packets``."""
        gop = cls()
        for packet in packets:
            gop.add(packet)
        return gop

    def add(self, packet: TimedPacket) -> None:
        """Append one packet (decode order)."""
        self.packets.append(packet)
        self.size += packet.size + PER_PACKET_OVERHEAD
        self.presented += not packet.discard

    def leading(self) -> list[int]:
        """Indices of the leading pictures: after the key frame in decode order, before it on screen."""
        key = self.packets[0].pts
        return [i for i, packet in enumerate(self.packets) if i and packet.pts < key]

    def split_leading(self) -> tuple[list[TimedPacket], Gop]:
        """(lead-in, rest) for a cut before this GOP.

        The lead-in goes to the end of the previous fragment: this GOP's packets through its last leading picture,
        everything but the leading pictures decode-only (shown by the next fragment). The rest, without the leading
        pictures, opens the next fragment. (Nothing to move: an empty lead-in and the GOP itself.)
        """
        leading = self.leading()
        if not leading:
            return [], self
        moved = set(leading)
        lead_in = [
            packet if i in moved else dataclasses.replace(packet, discard=True)
            for i, packet in enumerate(self.packets[: leading[-1] + 1])
        ]
        return lead_in, Gop.of([packet for i, packet in enumerate(self.packets) if i not in moved])


def iter_gops(packets: Iterator[TimedPacket]) -> Iterator[Gop]:
    """Group packets into GOPs.

    Packets before the first key frame cannot be decoded and are dropped; so are the first GOP's leading
    pictures, which reference pictures before the upload began (decoders skip them too).
    """
    gop: Gop | None = None
    dropped = 0
    first = True
    for packet in packets:
        if packet.keyframe:
            if gop is not None:
                yield _without_leading(gop) if first else gop
                first = False
            gop = Gop()
        if gop is None:
            dropped += 1
            continue
        gop.add(packet)
    if dropped:
        logger.info("dropped packets before the first key frame", extra={"packets": dropped})
    if gop is not None:
        yield _without_leading(gop) if first else gop


def _without_leading(gop: Gop) -> Gop:
    lead_in, rest = gop.split_leading()
    if lead_in:
        logger.info("dropped the first GOP's leading pictures", extra={"packets": len(gop.packets) - len(rest.packets)})
    return rest


@dataclass
class Timeline:
    """Keeps one upload's timeline going forward when its timestamps restart or jump backwards (joined files).

    Checked at key frames: a GOP whose key frame starts no later than the latest frame that came before is moved,
    with all that follows it, to start right at the end of what came before, as players play such files (in file
    order). Its leading pictures reference the other part's pictures and are dropped, as at the start of an upload.
    Starts, not ends, decide: MP4 packet durations are decode-order steps, so with B-frames and a variable rate a
    frame's pts + duration can reach past the next key frame.
    """

    offset: int = 0  # ticks added to every timestamp from here on
    end: int | None = None  # end of the latest presented frame so far, in shifted ticks
    latest: int | None = None  # start of the latest presented frame so far, in shifted ticks
    restarts: list[tuple[int, int]] = field(default_factory=list)  # (file timestamp, continued at), in ticks

    def follow(self, gop: Gop) -> Gop:
        """The GOP on the continued timeline."""
        key = gop.packets[0]
        if self.end is not None and self.latest is not None and key.pts + self.offset <= self.latest:
            self.restarts.append((key.pts, self.end))
            self.offset = self.end - key.pts
            _, gop = gop.split_leading()
        if self.offset:
            gop = Gop.of([dataclasses.replace(packet, pts=packet.pts + self.offset) for packet in gop.packets])
        presented = [packet for packet in gop.packets if not packet.discard]
        if presented:
            ends, starts = [p.pts + p.duration for p in presented], [p.pts for p in presented]
            self.end = max(ends if self.end is None else [self.end, *ends])
            self.latest = max(starts if self.latest is None else [self.latest, *starts])
        return gop
