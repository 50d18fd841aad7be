"""Running totals of a put-media upload: what the summary line reports and what decides the exit status."""

from __future__ import annotations

from dataclasses import dataclass

from stillframe.uploader import ChunkResult


@dataclass
class UploadTally:
    """Running totals of an upload, for the summary line."""

    producer_start_ms: int
    chunks: int = 0
    persisted: int = 0
    errors: int = 0
    empty_chunks: int = 0
    bytes_sent: int = 0
    video_ms: int = 0
    first_ms: int | None = None
    end_ms: int | None = None
    retries: int = 0

    def add(self, result: ChunkResult) -> None:
        """Count one accepted chunk."""
        self.chunks += 1
        self.persisted += result.persisted
        self.errors += len(result.errors)
        self.empty_chunks += 0 if result.persisted or result.errors else 1
        self.bytes_sent += result.size
        self.video_ms += result.duration_ms
        self.retries += result.attempts - 1
        start = self.producer_start_ms + result.offset_ms
        self.first_ms = start if self.first_ms is None else min(self.first_ms, start)
        end = start + result.duration_ms
        self.end_ms = end if self.end_ms is None else max(self.end_ms, end)

    @property
    def all_persisted(self) -> bool:
        """True when at least one fragment was stored and nothing was refused or left unacknowledged."""
        return self.persisted > 0 and self.errors == 0 and self.empty_chunks == 0
