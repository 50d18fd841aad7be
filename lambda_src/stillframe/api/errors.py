"""The one place where errors become AWS-shaped HTTP responses.

Shape: the modeled status, header ``x-amzn-ErrorType: <Name>`` and body
``{"__type": "<Name>", "message": "..."}``; boto3 turns that into ``client.exceptions.<Name>``.
"""

from __future__ import annotations

import json

from aws_lambda_powertools.event_handler import Response

from stillframe.errors import StillframeError

INTERNAL_FAILURE = "InternalFailure"


def error_response(code: str, message: str, status: int) -> Response:
    """An AWS-shaped error response."""
    return Response(
        status_code=status,
        content_type="application/json",
        body=json.dumps({"__type": code, "message": message}),
        headers={"x-amzn-ErrorType": code},
    )


def from_error(exc: StillframeError) -> Response:
    return error_response(exc.code, exc.message, exc.status)


def internal_failure() -> Response:
    return error_response(INTERNAL_FAILURE, "The server failed to process the request; it has been logged.", 500)


def not_found(method: str, path: str) -> Response:
    return error_response("ResourceNotFoundException", f"There is no operation at {method} {path}.", 404)
