"""``python -m bench.ranged``: what ranged reads of only the GOPs a page needs would save against whole-fragment GETs.

A model over real bytes: the bench's 60 s 1080p source (4 Mbit/s, 2 s GOPs) is cut by Stillframe's splitter into
fragments of 2 s, 6 s and 20 s (the longest ingest accepts); each GOP's byte span comes from the Matroska block
positions of its packets. GET times follow ``bench.s3sim`` (30 ms to first byte, 100 MB/s per connection); a page's
fragments are fetched 8 at a time, as the engine's I/O pool does. Three ways to read a page's fragments:

- whole: one GET per fragment (today);
- ranged, offsets known: the byte offset of every GOP kept beside the fragment's index record (a new write at
  ingest), so one GET of the header and one per run of needed GOPs, concurrently: one round trip;
- ranged, offsets read: the header (with Cues) read first to learn the offsets, then the ranges: two round trips.

Beside them, the decoding the same page needs anyway (key frame to sample per GOP, at this machine's measured
5.2 ms a P frame and 18 ms a key frame): fetching overlaps decoding, so a saving matters only where fetching is
the longer of the two. Prints a Markdown table; nothing is written.
"""

from __future__ import annotations

import io
import math
import sys
from dataclasses import dataclass

import av

from bench.content import FPS, GOP
from bench.fixtures import FIXTURES
from bench.s3sim import BYTES_PER_S, FIRST_BYTE_S

SOURCE = FIXTURES / "src-1080p.mkv"
FRAGMENT_MS = (2_000, 6_000, 20_000)
INTERVALS_MS = (200, 1_000, 6_000, 10_000, 20_000)
PAGE = 25
IO_THREADS = 8
KEY_FRAME_S, P_FRAME_S = 0.018, 0.0052  # bench figures for this content (docs/performance.md)


@dataclass(frozen=True)
class Fragment:
    start_frame: int
    size: int
    header: int  # bytes before the first GOP
    gop_spans: tuple[tuple[int, int], ...]  # [start, end) byte range of each GOP


def cut(fragment_ms: int) -> list[Fragment]:
    """The source cut into stored fragments, each with its GOPs' byte spans."""
    from stillframe.media.split import iter_fragments

    fragments, frame = [], 0
    for piece in iter_fragments(SOURCE.read_bytes(), target_ms=fragment_ms):
        with av.open(io.BytesIO(piece.data), format="matroska") as container:
            packets = [p for p in container.demux(video=0) if p.size]
        starts = [p.pos for p in packets if p.is_keyframe and p.pos is not None]
        ends = [*starts[1:], len(piece.data)]
        fragments.append(Fragment(frame, len(piece.data), starts[0], tuple(zip(starts, ends, strict=True))))
        frame += piece.frame_count
    return fragments


def page_cost(fragments: list[Fragment], frames: list[int]) -> dict[str, float]:
    """Bytes and modelled seconds for one page whose samples show ``frames`` (stream frame numbers)."""
    whole, ranged, reads_whole, reads_ranged, decode = 0, 0, [], [], 0.0
    deepest: dict[int, int] = {}
    for frame in frames:
        deepest[frame // GOP] = max(deepest.get(frame // GOP, 0), frame % GOP)
    decode = sum(KEY_FRAME_S + P_FRAME_S * depth for depth in deepest.values())
    for fragment in fragments:
        first = fragment.start_frame // GOP
        needed = [n for n in range(len(fragment.gop_spans)) if first + n in deepest]
        if not needed:
            continue
        whole += fragment.size
        reads_whole.append(_get(fragment.size))
        runs = _runs(needed)
        parts = [fragment.header] + [fragment.gop_spans[b][1] - fragment.gop_spans[a][0] for a, b in runs]
        ranged += sum(parts)
        reads_ranged.append(max(_get(part) for part in parts))  # the parts of one fragment are fetched at once
    return {
        "MB whole": whole / 1e6,
        "MB ranged": ranged / 1e6,
        "fetch whole s": _pool(reads_whole),
        "fetch ranged s": _pool(reads_ranged),
        "fetch ranged +1 RTT s": _pool([read + FIRST_BYTE_S for read in reads_ranged]),
        "decode s": decode,
    }


def _runs(needed: list[int]) -> list[tuple[int, int]]:
    """Consecutive GOP numbers as (first, last) runs."""
    runs: list[tuple[int, int]] = []
    for n in needed:
        if runs and runs[-1][1] == n - 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs


def _get(size: int) -> float:
    return FIRST_BYTE_S + size / BYTES_PER_S


def _pool(reads: list[float]) -> float:
    """Wall time of reads spread over the I/O threads (each connection at full speed)."""
    if not reads:
        return 0.0
    waves = math.ceil(len(reads) / IO_THREADS)
    ordered = sorted(reads, reverse=True)
    return sum(ordered[w * IO_THREADS] for w in range(waves))


def main() -> int:
    """Print the table: one row per fragment length and sampling interval (one 25-sample page from 12 s in)."""
    columns = ("MB whole", "MB ranged", "fetch whole s", "fetch ranged s", "fetch ranged +1 RTT s", "decode s")
    print("| fragment | interval | GOPs needed / held |", " | ".join(columns), "|")
    print("|---|---|---|" + "---|" * len(columns))
    frame_ms = 1000 // FPS
    total_frames = 60 * FPS
    for fragment_ms in FRAGMENT_MS:
        fragments = cut(fragment_ms)
        for interval in INTERVALS_MS:
            start = 12_000 if interval < 10_000 else 0
            times = [t for t in range(start, start + PAGE * interval, interval) if t < total_frames * frame_ms]
            frames = [t // frame_ms for t in times]
            touched = {f for f in range(len(fragments)) for frame in frames if _holds(fragments, f, frame)}
            held = sum(len(fragments[f].gop_spans) for f in touched)
            cost = page_cost(fragments, frames)
            needed = len({frame // GOP for frame in frames})
            figures = " | ".join(f"{cost[c]:.3f}" for c in columns)
            print(f"| {fragment_ms // 1000} s | {interval} ms | {needed} / {held} | {figures} |")
    return 0


def _holds(fragments: list[Fragment], index: int, frame: int) -> bool:
    start = fragments[index].start_frame
    end = fragments[index + 1].start_frame if index + 1 < len(fragments) else sys.maxsize
    return start <= frame < end


if __name__ == "__main__":
    sys.exit(main())
