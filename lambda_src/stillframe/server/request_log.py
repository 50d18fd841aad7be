"""The one log line ``stillframe serve`` writes per request: what was asked, of which stream, and how it ended.

``request method=POST path=/getImages operation=GetImages stream=lobby status=200 error_type=- request_id=...
bytes=... duration_ms=...``. The operation comes from the path, the status, error type (``x-amzn-ErrorType``) and
request id from the answer itself, so the server's own refusals read like the handler's answers. The stream is the
one the handler's validated request names (``api.app`` notes it in the invocation context's ``request_log``), so
the log line and the operation never disagree about it; a request refused before validation logs ``-``. Names are
validated stream names, so a client cannot write into the log.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from urllib.parse import unquote

from stillframe.domain.operations import operation_at

logger = logging.getLogger("stillframe.server")

NONE = "-"


def operation_of(target: str) -> str | None:
    """The KVS operation a request target names (``/getImages?x`` -> GetImages), None for any other path."""
    spec = operation_at(unquote(target.split("?", 1)[0]))
    return None if spec is None else spec.name


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
