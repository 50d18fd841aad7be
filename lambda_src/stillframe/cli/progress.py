"""Upload progress on stderr: a redrawn bar on a terminal, one plain line per chunk otherwise (logs, CI)."""

from __future__ import annotations

from typing import Protocol, TextIO

from stillframe.cli.tally import UploadTally
from stillframe.uploader import ChunkResult

BAR_WIDTH = 30


class Progress(Protocol):
    """Receives each accepted chunk, then ``finish`` once."""

    def chunk(self, result: ChunkResult, tally: UploadTally) -> None:
        """Show one more accepted chunk."""

    def finish(self) -> None:
        """Leave the output ready for the next line."""


def progress_for(stream: TextIO, total_ms: int | None) -> Progress:
    """A bar when ``stream`` is a terminal, plain lines otherwise; ``total_ms`` (None: unknown) gives the %."""
    return BarProgress(stream, total_ms) if stream.isatty() else PlainProgress(stream, total_ms)


def human_bytes(size: int) -> str:
    """``532 B``, ``12.3 KiB``, ``4.0 MiB``..."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def percent(done_ms: int, total_ms: int | None) -> float | None:
    """Share of the video sent, 0..100, or None when the length is unknown."""
    if not total_ms:
        return None
    return min(100.0, 100.0 * done_ms / total_ms)


class PlainProgress:
    """``chunk 3: 12.000-16.000 s, 3.9 MiB, 2 fragments persisted (41%)``."""

    def __init__(self, stream: TextIO, total_ms: int | None) -> None:
        self._stream = stream
        self._total_ms = total_ms

    def chunk(self, result: ChunkResult, tally: UploadTally) -> None:
        """Write one line for the chunk."""
        start_s = result.offset_ms / 1000
        end_s = (result.offset_ms + result.duration_ms) / 1000
        line = f"chunk {result.index}: {start_s:.3f}-{end_s:.3f} s, {human_bytes(result.size)}"
        line += f", {result.persisted} fragments persisted"
        if result.errors:
            line += f", {len(result.errors)} refused"
        if result.attempts > 1:
            line += f" (after {result.attempts} attempts)"
        share = percent(result.offset_ms + result.duration_ms, self._total_ms)
        if share is not None:
            line += f" ({share:.0f}%)"
        self._stream.write(line + "\n")
        self._stream.flush()

    def finish(self) -> None:
        """Nothing to tidy: every line is complete."""


class BarProgress:
    """``[##########....................]  33.3%  10.0/30.0 s  4.0 MiB  chunks 2``, redrawn in place."""

    def __init__(self, stream: TextIO, total_ms: int | None) -> None:
        self._stream = stream
        self._total_ms = total_ms
        self._drawn = 0

    def chunk(self, result: ChunkResult, tally: UploadTally) -> None:
        """Redraw the bar with the new totals."""
        done_ms = result.offset_ms + result.duration_ms
        share = percent(done_ms, self._total_ms)
        if share is None:
            head = f"{done_ms / 1000:.1f} s"
        else:
            filled = round(BAR_WIDTH * share / 100)
            total_s = (self._total_ms or 0) / 1000
            head = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {share:5.1f}%  {done_ms / 1000:.1f}/{total_s:.1f} s"
        line = f"{head}  {human_bytes(tally.bytes_sent)}  chunks {tally.chunks}"
        self._stream.write("\r" + line.ljust(self._drawn))
        self._stream.flush()
        self._drawn = len(line)

    def finish(self) -> None:
        """End the bar's line."""
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()
