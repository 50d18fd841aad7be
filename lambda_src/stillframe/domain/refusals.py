"""Validation errors of a request model as the one AWS-shaped refusal a client sees.

pydantic (through Powertools' ``enable_validation``, or ``parse``) reports every broken rule with its location;
this turns them into ``InvalidArgumentError`` with AWS's sentence, naming each field as the client spelled it
(dotted for nested members) and the rule::

    1 validation error detected: Value 'a b' at 'StreamName' failed to satisfy constraint:
    Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+

Cross-field rules (``shapes.invalid_argument``, ``shapes.validation_error``) keep their own sentence and class.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from stillframe.domain.shapes import INVALID_ARGUMENT, RULE, VALIDATION, pattern_text
from stillframe.errors import InvalidArgumentError, StillframeError, ValidationError

M = TypeVar("M", bound=BaseModel)

NOT_AN_OBJECT = "request body must be a JSON object"
# Values echoed in messages are cut so a 4 KB junk token does not come back whole.
_MAX_ECHO = 80
_OBJECT_TYPES = frozenset({"model_type", "model_attributes_type", "dict_type", "missing"})


def parse(model: type[M], body: object) -> M:
    """Validate ``body`` (a decoded JSON value) into ``model``, or raise the refusal (for callers outside the API)."""
    try:
        return model.model_validate(body)
    except PydanticValidationError as exc:
        raise refusal(exc.errors()) from exc


def refusal(errors: Sequence[Mapping[str, Any]]) -> StillframeError:
    """The one error for a request's validation errors (pydantic's or Powertools' ``RequestValidationError``)."""
    for error in errors:
        if error["type"] == VALIDATION:
            return ValidationError(str(error["msg"]))
        if error["type"] == INVALID_ARGUMENT:
            return InvalidArgumentError(str(error["msg"]))
    rules = [_sentence(error) for error in errors]
    if any(rule is None for rule in rules):
        return InvalidArgumentError(NOT_AN_OBJECT)
    count = f"{len(rules)} validation error{'s' if len(rules) > 1 else ''} detected"
    return InvalidArgumentError(f"{count}: {'; '.join(rule for rule in rules if rule)}")


def _sentence(error: Mapping[str, Any]) -> str | None:
    """``Value ... at 'Field' failed to satisfy constraint: <rule>``; None when the body itself is not an object."""
    field = _field(error["loc"])
    kind = str(error["type"])
    if not field:
        return None if kind in _OBJECT_TYPES else f"The request body is not valid: {error.get('msg', kind)}"
    value = None if kind == "missing" else error.get("input")
    return f"Value {echo(value)} at '{field}' failed to satisfy constraint: {_rule(kind, error, value)}"


def _rule(kind: str, error: Mapping[str, Any], value: object) -> str:
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    pattern = str(ctx.get("pattern", ""))
    if value is None:
        return "Member must not be null"
    rules = {
        "string_type": "Member must be a string",
        "string_too_short": f"Member must have length greater than or equal to {ctx.get('min_length')}",
        "too_short": f"Member must have length greater than or equal to {ctx.get('min_length')}",
        "string_too_long": f"Member must have length less than or equal to {ctx.get('max_length')}",
        "too_long": f"Member must have length less than or equal to {ctx.get('max_length')}",
        "string_pattern_mismatch": f"Member must satisfy regular expression pattern: {pattern_text(pattern)}",
        "greater_than_equal": f"Member must have value greater than or equal to {ctx.get('ge')}",
        "less_than_equal": f"Member must have value less than or equal to {ctx.get('le')}",
        "literal_error": f"Member must satisfy enum value set: [{_enum_values(str(ctx.get('expected', '')))}]",
        "model_type": "Member must be an object",
        "model_attributes_type": "Member must be an object",
        "dict_type": "Member must be an object",
        "list_type": "Member must be a list",
    }
    if kind == RULE:
        return str(error["msg"])
    return rules.get(kind, str(error.get("msg", kind)))


def _field(loc: Sequence[object]) -> str:
    """The member's path as the client spelled it: ``FragmentSelector.TimestampRange.StartTimestamp``.

    List members count from 1, as AWS names them: ``Tags.2.member.Key``.
    """
    parts: list[str] = []
    for part in loc[1:] if loc and loc[0] == "body" else loc:
        if part == "[key]" and parts:
            parts[-1] = "key"  # a map key that broke the key rule: AWS says '<Map>.key'
        elif isinstance(part, int):
            parts.append(f"{part + 1}.member")  # a list member: AWS counts from 1 ('TagKeyList.1.member')
        else:
            parts.append(str(part))
    return ".".join(parts)


def _enum_values(expected: str) -> str:
    """pydantic's ``'A', 'B' or 'C'`` as ``A, B, C``."""
    return ", ".join(item.strip().strip("'") for item in expected.replace(" or ", ", ").split(", "))


def echo(value: object) -> str:
    """A value as a message quotes it: ``null``, or the text cut to a short length."""
    if value is None:
        return "null"
    text = value if isinstance(value, str) else repr(value)
    if len(text) > _MAX_ECHO:
        text = text[: _MAX_ECHO - 3] + "..."
    return f"'{text}'"
