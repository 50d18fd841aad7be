"""Timestamps as clients send them (epoch seconds, integer or fraction, or ISO-8601) read as epoch milliseconds."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

# Timestamps past the end of year 9999 cannot be represented by datetime anywhere downstream.
MAX_TIMESTAMP_MS = 253_402_300_799_999

# An ISO-8601 timestamp is short; longer strings are junk and are not worth parsing.
_MAX_ISO_LENGTH = 64
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def millis(value: object) -> int:
    """Integer epoch milliseconds (rounded half up) of a timestamp; ValueError saying the rule it breaks.

    Accepted: a JSON number of epoch seconds (int or fraction; not bool, negative, NaN or infinite),
    or an ISO-8601 string with ``Z`` or an offset (a naive one is UTC).
    """
    result = _iso_millis(value) if isinstance(value, str) else _epoch_seconds_millis(value)
    if result is None:
        raise ValueError("Member must be epoch seconds (a number) or an ISO-8601 timestamp")
    if result < 0:
        raise ValueError("Member must not be before 1970-01-01T00:00:00Z")
    if result > MAX_TIMESTAMP_MS:
        raise ValueError("Member must not be after 9999-12-31T23:59:59.999Z")
    return result


def _epoch_seconds_millis(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Decimal) and not value.is_finite():
        return None
    # repr() gives the shortest decimal that round-trips, so 1700000000.123 becomes exactly ...123 ms
    # (multiplying the binary float by 1000 can land a hair below and round the wrong way).
    ms = (Decimal(repr(value)) if isinstance(value, float) else Decimal(value)) * 1000
    if abs(ms) > MAX_TIMESTAMP_MS + 1:
        # Out of range either way; answer before quantize() runs out of Decimal precision.
        return MAX_TIMESTAMP_MS + 1 if ms > 0 else -1
    return int(ms.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _iso_millis(value: str) -> int | None:
    if not value or len(value) > _MAX_ISO_LENGTH:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        micros = (parsed - _EPOCH) // timedelta(microseconds=1)
    except OverflowError:
        return None
    return (micros + 500) // 1000
