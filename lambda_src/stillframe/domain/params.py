"""Field checks for JSON request bodies, with AWS-style messages.

``string``, ``integer``, ``enum``, ``string_map``, ``structure`` and ``timestamp`` are checks
(``Check``: value and field path in, typed value out); ``optional`` and ``required`` read one
member of a JSON object with a check, treating a missing member and JSON ``null`` alike (as AWS
does). A failed check raises ``InvalidArgumentError`` whose message names the field as the
client spelled it and the rule it broke, e.g.::

    1 validation error detected: Value 'a b' at 'StreamName' failed to satisfy constraint:
    Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+

Nested members are named by dotted paths (``FragmentSelector.TimestampRange.StartTimestamp``)
via the ``parent`` argument. Unknown members are ignored, like AWS does, so newer SDKs
that send new optional fields keep working.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Collection, Mapping, Sized
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol, TypeVar

from stillframe.errors import InvalidArgumentError

T = TypeVar("T")
Check = Callable[[object, str], T]
"""A value check: given a present (non-null) value and its field path, return it typed or raise."""

# The service models' "integer" is a 32-bit Java int (their "long" fields here all have small ranges).
INT32_MAX = 2**31 - 1

# Timestamps past the end of year 9999 cannot be represented by datetime anywhere downstream.
MAX_TIMESTAMP_MS = 253_402_300_799_999

# An ISO-8601 timestamp is short; longer strings are junk and are not worth parsing.
_MAX_ISO_LENGTH = 64
# Values echoed in messages are cut so a 4 KB junk token does not come back whole.
_MAX_ECHO = 80


class Pattern(Protocol):
    """What a string rule needs from a pattern: its text (for messages) and a full match."""

    @property
    def pattern(self) -> str: ...

    def fullmatch(self, string: str, /) -> object: ...


class UnicodeClassPattern:
    """A ``[...]*`` pattern over Unicode categories, for model patterns Python's ``re`` lacks (``\\p{L}``)."""

    def __init__(self, text: str, categories: str, extra: str) -> None:
        self.pattern = text
        self._categories = categories
        self._extra = extra

    def fullmatch(self, string: str, /) -> bool:
        """True when every character is in one of the categories or in the extra set."""
        return all(c in self._extra or unicodedata.category(c)[0] in self._categories for c in string)


def compile_pattern(text: str) -> re.Pattern[str]:
    """Compile a service-model pattern; ASCII mode because the models' ``\\w`` and ``\\d`` are Java's (ASCII)."""
    return re.compile(text, re.ASCII)


def fail(field: str, value: object, rule: str) -> InvalidArgumentError:
    """Build the AWS-style error for one field that broke one rule (the caller raises it)."""
    return InvalidArgumentError(
        f"1 validation error detected: Value {_echo(value)} at '{field}' failed to satisfy constraint: {rule}"
    )


def request_body(body: object) -> Mapping[str, Any]:
    """Return the request body if it is a JSON object, else raise InvalidArgumentError."""
    if not isinstance(body, Mapping):
        raise InvalidArgumentError("request body must be a JSON object")
    return body


def optional(obj: Mapping[str, Any], name: str, check: Check[T], *, parent: str = "") -> T | None:
    """Read member ``name`` with ``check``; a missing or null member gives None."""
    value = obj.get(name)
    return None if value is None else check(value, _path(parent, name))


def required(obj: Mapping[str, Any], name: str, check: Check[T], *, parent: str = "") -> T:
    """Read member ``name`` with ``check``; a missing or null member is an error."""
    value = obj.get(name)
    if value is None:
        raise fail(_path(parent, name), None, "Member must not be null")
    return check(value, _path(parent, name))


def string(*, min_len: int = 0, max_len: int | None = None, pattern: Pattern | None = None) -> Check[str]:
    """A check for a string with a length range and a pattern that must match the whole string."""

    def check(value: object, field: str) -> str:
        if not isinstance(value, str):
            raise fail(field, value, "Member must be a string")
        _check_length(field, value, min_len, max_len)
        if pattern is not None and not pattern.fullmatch(value):
            raise fail(field, value, f"Member must satisfy regular expression pattern: {pattern.pattern}")
        return value

    return check


def integer(*, minimum: int = -INT32_MAX - 1, maximum: int = INT32_MAX) -> Check[int]:
    """A check for a whole JSON number (``25`` or ``25.0``; not a bool, fraction or string) in a range."""

    def check(value: object, field: str) -> int:
        number = _whole_number(value)
        if number is None:
            raise fail(field, value, "Member must be an integer")
        if number < minimum:
            raise fail(field, value, f"Member must have value greater than or equal to {minimum}")
        if number > maximum:
            raise fail(field, value, f"Member must have value less than or equal to {maximum}")
        return number

    return check


def enum(allowed: Collection[str]) -> Check[str]:
    """A check for a string that is one of ``allowed`` (case-sensitive, as AWS)."""

    def check(value: object, field: str) -> str:
        if not isinstance(value, str) or value not in allowed:
            raise fail(field, value, f"Member must satisfy enum value set: [{', '.join(allowed)}]")
        return value

    return check


def string_map(
    *, min_entries: int = 0, max_entries: int | None = None, key: Check[str], value: Check[str]
) -> Check[dict[str, str]]:
    """A check for a JSON object of strings; entries are checked by ``key`` and ``value``."""

    def check(raw: object, field: str) -> dict[str, str]:
        if not isinstance(raw, Mapping):
            raise fail(field, raw, "Member must be an object")
        _check_length(field, raw, min_entries, max_entries)
        return {key(k, f"{field}.key"): value(v, f"{field}.{k}") for k, v in raw.items()}

    return check


def structure(value: object, field: str) -> Mapping[str, Any]:
    """Check that a member is a JSON object (a model ``structure``)."""
    if not isinstance(value, Mapping):
        raise fail(field, value, "Member must be an object")
    return value


def timestamp(value: object, field: str) -> int:
    """Check a timestamp and return integer epoch milliseconds (rounded half up to the nearest ms).

    Accepted: a JSON number of epoch seconds (int or fraction; not bool, negative, NaN or infinite),
    or an ISO-8601 string with ``Z`` or an offset (a naive one is UTC).
    """
    millis = _iso_millis(value) if isinstance(value, str) else _epoch_seconds_millis(value)
    if millis is None:
        raise fail(field, value, "Member must be epoch seconds (a number) or an ISO-8601 timestamp")
    if millis < 0:
        raise fail(field, value, "Member must not be before 1970-01-01T00:00:00Z")
    if millis > MAX_TIMESTAMP_MS:
        raise fail(field, value, "Member must not be after 9999-12-31T23:59:59.999Z")
    return millis


parse_timestamp = timestamp  # the name callers outside request parsing (PutMedia headers) use


def _check_length(field: str, value: Sized, minimum: int, maximum: int | None) -> None:
    """The model's length rule, for strings (characters) and maps (entries) alike."""
    if len(value) < minimum:
        raise fail(field, value, f"Member must have length greater than or equal to {minimum}")
    if maximum is not None and len(value) > maximum:
        raise fail(field, value, f"Member must have length less than or equal to {maximum}")


def _path(parent: str, name: str) -> str:
    return f"{parent}.{name}" if parent else name


def _echo(value: object) -> str:
    if value is None:
        return "null"
    text = value if isinstance(value, str) else repr(value)
    if len(text) > _MAX_ECHO:
        text = text[: _MAX_ECHO - 3] + "..."
    return f"'{text}'"


def _whole_number(value: object) -> int | None:
    """The int a JSON number stands for if it is whole (``25`` or ``25.0``), else None."""
    if isinstance(value, bool):  # bool is an int subclass, but JSON true is not a number
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None  # is_integer() is False for NaN and inf
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    return None


def _epoch_seconds_millis(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Decimal) and not value.is_finite():
        return None
    # repr() gives the shortest decimal that round-trips, so 1700000000.123 becomes exactly ...123 ms
    # (multiplying the binary float by 1000 can land a hair below and round the wrong way).
    millis = (Decimal(repr(value)) if isinstance(value, float) else Decimal(value)) * 1000
    if abs(millis) > MAX_TIMESTAMP_MS + 1:
        # Out of range either way; answer before quantize() runs out of Decimal precision.
        return MAX_TIMESTAMP_MS + 1 if millis > 0 else -1
    return int(millis.quantize(Decimal(1), rounding=ROUND_HALF_UP))


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


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
