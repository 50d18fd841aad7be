"""What a stream's retention keeps: fragments past it are gone at read time, before the lifecycle rule deletes them."""

from __future__ import annotations

from stillframe.catalog.keys import FragmentRecord
from stillframe.catalog.stream_record import StreamRecord
from stillframe.errors import NoDataRetentionError

HOUR_MS = 3_600_000


def retained(record: FragmentRecord, stream: StreamRecord, *, now_ms: int) -> bool:
    """Whether the fragment is still within its stream's retention."""
    return record.server_ms + stream.DataRetentionInHours * HOUR_MS >= now_ms


def retention_cutoff(stream: StreamRecord, now_ms: int) -> int:
    """The earliest server time a retained fragment can start at."""
    return max(0, now_ms - stream.DataRetentionInHours * HOUR_MS)


def require_retention(stream: StreamRecord) -> None:
    """GetImages reads stored media: a stream that keeps none has none to read."""
    if stream.DataRetentionInHours == 0:
        raise NoDataRetentionError(f"The stream {stream.StreamName} has no data retention (DataRetentionInHours is 0).")
