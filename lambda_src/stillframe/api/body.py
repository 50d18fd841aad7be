"""Reading request bodies and headers off the current API Gateway event."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, TypeVar, cast

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from stillframe.domain.refusals import parse
from stillframe.domain.shapes import WireModel
from stillframe.errors import InvalidArgumentError

M = TypeVar("M", bound=WireModel)


def raw_body(event: BaseProxyEvent) -> bytes:
    """The body as bytes, undoing API Gateway's base64 for binary media types."""
    body = event.body or ""
    if event.is_base64_encoded:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidArgumentError("The request body is not valid base64.") from exc
    return body.encode("utf-8")


def json_body(event: BaseProxyEvent) -> dict[str, Any]:
    """The body as a JSON object (an empty body is an empty object, as boto3 sends for no arguments)."""
    data = raw_body(event)
    if not data.strip():
        return {}
    try:
        body = json.loads(data)
    except RecursionError as exc:
        raise InvalidArgumentError("The request body is not valid JSON: it is nested too deeply.") from exc
    except ValueError as exc:  # also UnicodeDecodeError, and integers too long to convert (over 4300 digits)
        raise InvalidArgumentError(f"The request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise InvalidArgumentError("The request body must be a JSON object.")
    return body


def header(event: BaseProxyEvent, name: str) -> str | None:
    """A request header, case-insensitively."""
    value = event.headers.get(name)
    if value is not None:
        return str(value)
    lowered = name.lower()
    for key, candidate in (event.headers or {}).items():
        if key.lower() == lowered:
            return str(candidate)
    return None


def headers_request(event: BaseProxyEvent, model: type[M]) -> M:
    """The request a header-borne model (PutMedia's ``x-amzn-*``) validates from the event's headers, or its 400."""
    names = [field.alias for field in model.model_fields.values() if field.alias]
    return parse(model, {name: value for name in names if (value := header(event, name)) is not None})


def base_url(proxy_event: BaseProxyEvent, public_url: str = "") -> str:
    """This service's own base URL: ``public_url`` when configured, else as the client reached it, stage path included.

    ``stillframe serve`` configures it (``--public-url``, or the address it listens on), so a client's Host header
    never chooses the endpoint other clients are sent to.
    Behind an API Gateway the scheme is https (the only one API Gateway serves; LocalStack's sets
    ``X-Forwarded-Proto`` from the HTTP version, ``HTTP``, even over TLS). A request to LocalStack's path form
    ``/_aws/execute-api/<api id>/<stage>/...`` on a loopback host arrives with that prefix removed; it is put back.
    """
    if public_url:
        return public_url.rstrip("/")
    event = cast(APIGatewayProxyEvent, proxy_event)
    api_id = event.request_context.api_id
    behind_gateway = bool(api_id) and api_id != LOCAL_API_ID
    proto = "https" if behind_gateway else (header(event, "X-Forwarded-Proto") or "https").lower()
    host = header(event, "Host") or event.request_context.domain_name or "localhost"
    stage_path = event.request_context.path or ""
    prefix = stage_path[: -len(event.path)] if event.path and stage_path.endswith(event.path) else ""
    if behind_gateway and _is_loopback_host(host):
        prefix = f"{LOCALSTACK_PATH_FORM}/{api_id}{prefix}"
    return f"{proto}://{host}{prefix.rstrip('/')}"


# `stillframe serve` marks its events with this API id; any other id came through an API Gateway.
LOCAL_API_ID = "local"
LOCALSTACK_PATH_FORM = "/_aws/execute-api"


def _is_loopback_host(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return name in ("localhost", "127.0.0.1", "[::1]")
