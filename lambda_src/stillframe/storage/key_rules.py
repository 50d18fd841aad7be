"""The rules every object key follows, whichever adapter stores it (both adapters and the delivery sinks check them)."""

from __future__ import annotations

MAX_KEY_BYTES = 1024  # S3's limit on a key's UTF-8 length


def validate_key(key: str) -> bytes:
    """Check the key rules both adapters share and return the key's UTF-8 bytes.

    A key is a non-empty string of at most 1024 UTF-8 bytes, made of "/"-separated
    segments none of which is empty (so no leading, trailing or doubled "/").
    S3 itself would accept more, but a key the local adapter cannot store must fail
    the same way on S3, or a bug would hide until deployment. Raises ``ValueError``.
    """
    if not isinstance(key, str) or not key:
        raise ValueError(f"object key must be a non-empty string, not {key!r}")
    try:
        raw = key.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"object key {key!r} is not valid Unicode text (lone surrogate)") from exc
    if len(raw) > MAX_KEY_BYTES:
        raise ValueError(f"object key is {len(raw)} UTF-8 bytes long; the limit is {MAX_KEY_BYTES}")
    if "" in key.split("/"):
        raise ValueError(f"object key {key!r} has an empty segment (leading, trailing or doubled '/')")
    return raw
