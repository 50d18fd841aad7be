"""Powertools' request validation, reading bodies as KVS clients send them, and its errors in the AWS shape.

``app`` runs with ``enable_validation=True``: a route declares its request model as a parameter and receives it
validated. Two departures from Powertools' defaults, both for the wire contract (API.md):

- the body is read as JSON whatever the Content-Type (boto3 sends none for some calls, curl sends a form type),
  an empty body is ``{}`` (boto3's ListStreams without arguments), and base64 bodies are decoded;
- a ``RequestValidationError`` is the modeled 400 (``refusals.refusal``), never Powertools' 422.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import OpenAPIRequestValidationMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from stillframe.api import errors
from stillframe.api.body import json_body
from stillframe.domain.refusals import refusal


class WireBodyValidation(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation over the body as ``api.body.json_body`` reads it."""

    def _get_body(self, app: Any) -> dict[str, Any]:
        return json_body(app.current_event)


def install(app: APIGatewayRestResolver) -> None:
    """Validate ``app``'s requests with ``WireBodyValidation`` and answer refusals in the AWS shape."""
    # Powertools builds its middleware on first use unless the resolver already has one (api_gateway.Route).
    app._request_validation_middleware = WireBodyValidation()

    @app.exception_handler(RequestValidationError)
    def handle_invalid_request(exc: RequestValidationError) -> Response:
        return errors.from_error(refusal(exc.errors()))
