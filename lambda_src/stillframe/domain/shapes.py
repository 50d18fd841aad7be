"""The field shapes of the KVS service models as pydantic types, and the base every request model shares.

A request model (``requests``, ``stream_requests``) declares each member with its wire name as the alias and one
of these shapes, so the same declaration validates the body (Powertools' ``enable_validation``), carries the
constraints into the OpenAPI document, and gives the rule a refusal names (``refusals``):

- strings: ``Annotated[str, StringConstraints(min_length=..., max_length=..., pattern=model_pattern(...))]``;
  the pattern is the model's Java regex, matched whole, with ``\\w`` and ``\\d`` ASCII as in Java (pydantic's
  Rust engine knows ``\\p{L}``; Python's ``re`` does not).
- integers: ``Annotated[int, Ge(...), Le(...), WHOLE]``, a whole JSON number (``25`` or ``25.0``; not a bool,
  fraction or string); the models' integers are 32-bit Java ints.
- ``Timestamp``: epoch seconds (int or fraction) or ISO-8601, read as integer epoch milliseconds.

A member sent as JSON ``null`` counts as absent (as AWS does), and unknown members are ignored, so newer SDKs
that send new optional fields keep working.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainValidator, WithJsonSchema
from pydantic import model_validator as model_validator
from pydantic_core import PydanticCustomError

from stillframe.domain.timestamps import millis

INT32_MAX = 2**31 - 1

# Error types a refusal maps to its own class; every other error is a field rule (InvalidArgumentException).
RULE = "stillframe_rule"
INVALID_ARGUMENT = "stillframe_invalid_argument"
VALIDATION = "stillframe_validation"

_MODEL_PATTERNS: dict[str, str] = {}


class WireModel(BaseModel):
    """A request (or part of one) as the service model defines it; members by their wire names (aliases) only.

    Only the wire names are read: a body spelling a member by its Python name (``stream_name_given``) has that
    member ignored like any unknown one, so what a request names is what the service model says it names.
    """

    model_config = ConfigDict(frozen=True, validate_by_alias=True, validate_by_name=False, extra="ignore")

    def streams_named(self) -> tuple[str, ...]:
        """The names of the streams this request acts on (none by default: the access policy then refuses a
        stream-limited key any operation whose table row says it acts on a stream)."""
        return ()

    @model_validator(mode="before")
    @classmethod
    def _null_is_absent(cls, data: Any) -> Any:
        return {k: v for k, v in data.items() if v is not None} if isinstance(data, dict) else data


def model_pattern(text: str) -> str:
    """The service model's pattern as an anchored Rust regex with Java's ASCII ``\\w`` and ``\\d``."""
    anchored = "^(?:" + text.replace(r"\w", "[a-zA-Z0-9_]").replace(r"\d", "[0-9]") + ")$"
    _MODEL_PATTERNS[anchored] = text
    return anchored


def pattern_text(anchored: str) -> str:
    """The pattern as the service model writes it (for messages)."""
    return _MODEL_PATTERNS.get(anchored, anchored)


def rule(text: str) -> PydanticCustomError:
    """A field rule that pydantic has no error type for; the refusal names the field and says ``text``."""
    return PydanticCustomError(RULE, text)


def invalid_argument(message: str) -> PydanticCustomError:
    """A cross-field rule broken: InvalidArgumentException with exactly ``message``."""
    return PydanticCustomError(INVALID_ARGUMENT, message)


def validation_error(message: str) -> PydanticCustomError:
    """A cross-field rule the reference answers with ValidationException, with exactly ``message``."""
    return PydanticCustomError(VALIDATION, message)


def whole_number(value: object) -> int | None:
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


def _whole(value: object) -> int:
    number = whole_number(value)
    if number is None:
        raise rule("Member must be an integer")
    return number


def _timestamp(value: object) -> int:
    try:
        return millis(value)
    except ValueError as exc:
        raise rule(str(exc)) from exc


WHOLE = BeforeValidator(_whole)

Timestamp = Annotated[
    int,
    PlainValidator(_timestamp),
    WithJsonSchema(
        {
            "description": "Epoch seconds (integer or fraction) or an ISO-8601 timestamp",
            "anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "format": "date-time"}],
        }
    ),
]
"""Epoch seconds or ISO-8601 on the wire; integer epoch milliseconds (rounded half up) once validated."""
