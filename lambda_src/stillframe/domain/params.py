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

import re
import unicodedata
from collections.abc import Callable, Collection, Mapping, Sized
from typing import Any, Protocol, TypeVar

from stillframe.domain.refusals import echo
from stillframe.domain.shapes import whole_number
from stillframe.domain.timestamps import MAX_TIMESTAMP_MS as MAX_TIMESTAMP_MS  # still read here by callers
from stillframe.domain.timestamps import millis
from stillframe.errors import InvalidArgumentError

T = TypeVar("T")
Check = Callable[[object, str], T]
"""A value check: given a present (non-null) value and its field path, return it typed or raise."""

# The service models' "integer" is a 32-bit Java int (their "long" fields here all have small ranges).
INT32_MAX = 2**31 - 1


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
        f"1 validation error detected: Value {echo(value)} at '{field}' failed to satisfy constraint: {rule}"
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
        number = whole_number(value)
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
    """Check a timestamp and return integer epoch milliseconds (``timestamps.millis``)."""
    try:
        return millis(value)
    except ValueError as exc:
        raise fail(field, value, str(exc)) from exc


parse_timestamp = timestamp  # the name callers outside request parsing (PutMedia headers) use


def _check_length(field: str, value: Sized, minimum: int, maximum: int | None) -> None:
    """The model's length rule, for strings (characters) and maps (entries) alike."""
    if len(value) < minimum:
        raise fail(field, value, f"Member must have length greater than or equal to {minimum}")
    if maximum is not None and len(value) > maximum:
        raise fail(field, value, f"Member must have length less than or equal to {maximum}")


def _path(parent: str, name: str) -> str:
    return f"{parent}.{name}" if parent else name
