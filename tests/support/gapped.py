"""A stream ingested as two clips with a hole between them, through the real `stillframe put-media`.

Clip A (frames 0..149) covers T0 .. T0+6 s, clip B (frames 1000..1099) covers T0+20 s .. T0+24 s, both at 25 fps,
so a still at producer time t shows frame ``(t - T0) * 25`` in A and ``1000 + (t - T0 - 20) * 25`` in B.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import T0
from tests.support.serve import put_media_cli

FPS = 25
A_SECONDS, B_OFFSET_S, B_SECONDS, B_FIRST_FRAME = 6, 20, 4, 1000


@dataclass(frozen=True)
class GappedStream:
    """Where the stream's video and its hole are, in epoch milliseconds (producer time)."""

    name: str
    start_ms: int = T0 * 1000
    gap_start_ms: int = (T0 + A_SECONDS) * 1000
    gap_end_ms: int = (T0 + B_OFFSET_S) * 1000
    end_ms: int = (T0 + B_OFFSET_S + B_SECONDS) * 1000

    def frame_at(self, epoch_ms: int) -> int | None:
        """The frame number on screen at ``epoch_ms``, None in the gap or outside the video."""
        if self.start_ms <= epoch_ms < self.gap_start_ms:
            return (epoch_ms - self.start_ms) * FPS // 1000
        if self.gap_end_ms <= epoch_ms < self.end_ms:
            return B_FIRST_FRAME + (epoch_ms - self.gap_end_ms) * FPS // 1000
        return None


def ingest_gapped(url: str, name: str, workdir: Path, clip_factory: Callable[..., bytes]) -> GappedStream:
    """Make both clips and send them to ``name`` at their producer times."""
    stream = GappedStream(name)
    first = workdir / "a.mkv"
    first.write_bytes(clip_factory(seconds=A_SECONDS, fps=FPS, gop=25))
    second = workdir / "b.mkv"
    second.write_bytes(clip_factory(seconds=B_SECONDS, fps=FPS, gop=25, start_number=B_FIRST_FRAME))
    put_media_cli(url, name, str(first), "--producer-start-time", str(stream.start_ms / 1000))
    put_media_cli(url, name, str(second), "--producer-start-time", str(stream.gap_end_ms / 1000))
    return stream
