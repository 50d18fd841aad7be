"""Instants as the commands send and print them: exact UTC datetimes and ISO 8601 text to the millisecond."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_datetime(epoch_ms: int) -> datetime:
    """An exact UTC datetime (no float rounding: boto3 sends its milliseconds)."""
    return _EPOCH + timedelta(milliseconds=epoch_ms)


def iso_ms(epoch_ms: int) -> str:
    """``2026-11-26T10:00:00.520Z``."""
    return to_datetime(epoch_ms).isoformat(timespec="milliseconds").replace("+00:00", "Z")
