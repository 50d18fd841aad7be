"""The one log line ``stillframe serve`` writes per request: what was asked, of which stream, and how it ended.

``request method=POST path=/getImages operation=GetImages stream=lobby status=200 error_type=- request_id=...
bytes=... duration_ms=...``. The operation comes from the path, the status, error type (``x-amzn-ErrorType``) and
request id from the answer itself, so the server's own refusals read like the handler's answers. The stream is
PutMedia's ``x-amzn-stream-name`` header, or the ``StreamName``/``StreamARN`` of a small JSON body (the handler
parses the body on its own; reading a few hundred bytes again costs microseconds against a request's
milliseconds, and keeps the handler free of logging concerns). A value that is no valid stream name is left out,
so a client cannot write into the log.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from urllib.parse import unquote

from stillframe.domain.operations import operation_at
from stillframe.domain.stream_arn import StreamArn

logger = logging.getLogger("stillframe.server")

MAX_SCANNED_BODY = 64 * 1024  # KVS JSON requests are a few hundred bytes; a larger body is not read for the log
_STREAM_NAME = re.compile(r"[a-zA-Z0-9_.\-]{1,256}")  # the KVS StreamName pattern
NONE = "-"


def operation_of(target: str) -> str | None:
    """The KVS operation a request target names (``/getImages?x`` -> GetImages), None for any other path."""
    spec = operation_at(unquote(target.split("?", 1)[0]))
    return None if spec is None else spec.name


def stream_of(operation: str | None, headers: Sequence[tuple[str, str]], body: bytes | None) -> str | None:
    """The stream the request names, when it names one validly and cheaply; else None (for the log line only:
    access is decided on the validated request, never on this reading)."""
    if operation is None:
        return None
    if operation == "PutMedia":
        values = [value for name, value in headers if name.lower() in ("x-amzn-stream-name", "x-amzn-stream-arn")]
    elif body is None or len(body) > MAX_SCANNED_BODY:
        return None
    else:
        values = _body_streams(body)
    return next((name for name in map(_name_of, values) if name and _STREAM_NAME.fullmatch(name)), None)


def _name_of(value: str) -> str | None:
    if not value.startswith("arn:"):
        return value
    try:
        return StreamArn.parse(value).name
    except ValueError:
        return None


def _body_streams(body: bytes) -> list[str]:
    try:
        document = json.loads(body) if body.strip() else {}
    except (ValueError, RecursionError):  # not JSON, or nested too deeply: the handler answers it with a 400
        return []
    if not isinstance(document, dict):
        return []
    values = (document.get(field) for field in ("StreamName", "StreamARN", "ResourceARN"))
    return [value for value in values if isinstance(value, str)]


def log_request(
    *,
    method: str,
    target: str,
    stream: str | None,
    status: int,
    headers: Sequence[tuple[str, str]],
    size: int,
    duration_s: float,
) -> None:
    """Write the request's line (module docstring); ``headers`` are the answer's."""
    answer = {name.lower(): value for name, value in headers}
    logger.info(
        "request",
        extra={
            "method": method or NONE,
            "path": target.split("?", 1)[0] or NONE,
            "operation": operation_of(target) or NONE,
            "stream": stream or NONE,
            "status": status,
            "error_type": answer.get("x-amzn-errortype") or NONE,
            "request_id": answer.get("x-amzn-requestid") or NONE,
            "bytes": size,
            "duration_ms": round(duration_s * 1000, 1),
        },
    )
