"""``python -m bench.segments [REPS]``: the cost of the HLS/DASH segments of stored fragments, per fragment, warm.

For each of the 1080p 2 s fixture streams (``b1080p-2s``, P-frames only, and ``b1080pB-2s``, with B-frames) it
times ``media.segments``' init segment, the video's fMP4 media segment and the MPEG-TS segment of the same
fragments, each fragment's bytes already in memory (what a playback request pays after the store's read). Prints
one JSON line: the best and median ms per fragment of each. ``measure_segments`` is what a playback benchmark can
call with its own fragments. The fixtures must exist (``python -m bench.fixtures``).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.fixtures import T0_MS, load_fixtures, stream_name
from stillframe.media.segments import init_segment, media_segment, ts_segment


def measure_segments(fragments: Sequence[bytes], reps: int = 5) -> dict[str, dict[str, float]]:
    """Best and median ms per fragment of the init, video media and TS segments over ``fragments`` (warm)."""
    makers: dict[str, Callable[[bytes, int], bytes]] = {
        "init_ms": lambda data, _: init_segment(data, 1),
        "media_ms": lambda data, n: media_segment(data, 1, start_ms=T0_MS + 2000 * n, sequence=n),
        "ts_ms": lambda data, n: ts_segment(data, start_ms=T0_MS + 2000 * n, sequence=n),
    }
    figures = {}
    for name, make in makers.items():
        make(fragments[0], 0)  # warm: codecs and muxers loaded once
        walls = []
        for _ in range(reps):
            for number, data in enumerate(fragments):
                started = time.perf_counter()
                make(data, number)
                walls.append((time.perf_counter() - started) * 1000)
        figures[name] = {"best": round(min(walls), 2), "median": round(statistics.median(walls), 2)}
    return figures


def main(reps: int) -> dict[str, Any]:
    """The figures of both 1080p 2 s fixture streams."""
    fixtures = load_fixtures()
    result = {}
    for source in ("1080p", "1080pB"):
        fixture = fixtures[stream_name(source, 2)]
        fragments = [Path(path).read_bytes() for path in fixture.fragment_paths]
        result[fixture.name] = measure_segments(fragments, reps)
    return result


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)))
