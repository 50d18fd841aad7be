"""The one place where errors become AWS-shaped HTTP responses: the resolver's, the handler's and serve's own.

Shape: the status on the error's type, header ``x-amzn-ErrorType: <Name>`` and body
``{"__type": "<Name>", "message": "..."}``; boto3 turns that into ``client.exceptions.<Name>``. ``x-amzn-RequestId``
is added by ``lambda_handler`` to every answer and by serve to the refusals it sends itself (``http_error``).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response

from stillframe.errors import StillframeError, UnknownOperationError

JSON = "application/json"


def wire_error(exc: StillframeError) -> tuple[int, dict[str, str], str]:
    """Status, headers and JSON body of ``exc`` on the wire: the one builder the others wrap."""
    headers = {"Content-Type": JSON, "x-amzn-ErrorType": exc.code}
    return exc.status, headers, json.dumps({"__type": exc.code, "message": exc.message})


def from_error(exc: StillframeError) -> Response:
    """``exc`` as the resolver's response."""
    status, headers, body = wire_error(exc)
    return Response(status_code=status, content_type=JSON, body=body, headers=headers)


def proxy_error(exc: StillframeError) -> dict[str, Any]:
    """``exc`` as a proxy response dict, for what ``lambda_handler`` answers without the resolver."""
    status, headers, body = wire_error(exc)
    return {"statusCode": status, "headers": headers, "body": body, "isBase64Encoded": False}


def http_error(exc: StillframeError, request_id: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """``exc`` as serve sends it before or instead of the handler: status, header pairs with the id, body bytes."""
    status, headers, body = wire_error(exc)
    return status, [*headers.items(), ("x-amzn-RequestId", request_id)], body.encode("utf-8")


def internal_failure() -> StillframeError:
    """The InternalFailure (500) for anything unexpected; the traceback is only in the log."""
    return StillframeError("The server failed to process the request; it has been logged.")


def not_found(method: str, path: str) -> UnknownOperationError:
    return UnknownOperationError(f"Unknown operation: there is no operation at {method} {path}.")
