"""Lambda entry point for the API (API Gateway REST proxy events); ``stillframe serve`` calls it too.

Deployed as ``stillframe.handlers.api.lambda_handler`` (infra/constructs/runtime.py API_HANDLER) in both the media
image and the control-plane zip; it imports no media module, so the control-plane function never loads PyAV.

With ``STILLFRAME_AUTH=keys`` the request's signature (over the raw bytes) and the key's operation rights are
checked before anything is resolved (``stillframe.api.keys_auth``); the admitted key goes into the resolver's
context, where the streams of the validated request are checked against it (``api.app``). A refusal is the modeled
401 NotAuthorizedException.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from stillframe.api import keys_auth
from stillframe.api.app import app
from stillframe.api.context import CALLER, OPERATIONS
from stillframe.api.cors import refusal_headers
from stillframe.api.errors import internal_failure, proxy_error
from stillframe.domain.playback import is_playback_path
from stillframe.errors import NotAuthorizedError
from stillframe.observability import logger, metrics, tracer
from stillframe.wiring import Services, services

# Powertools prints the cold-start metric even when metrics are disabled; only Lambda should emit it.
IN_LAMBDA = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=IN_LAMBDA)
def lambda_handler(event: dict[str, Any], context: LambdaContext, *, svc: Services | None = None) -> dict[str, Any]:
    """Resolve one request; every response carries ``x-amzn-RequestId``.

    ``svc``: the services to answer with, by default the process's (``wiring.services()``); tests pass their own.
    """
    try:
        svc = svc or services()
        guard = keys_auth.guard_for(svc.settings)
        # A player's GET of a playback session carries no signature: its SessionToken is checked by the operation.
        # Any other method on those paths is an unsigned call like any other (API Gateway routes only the GETs).
        unsigned = event.get("httpMethod") == "GET" and is_playback_path(str(event.get("path") or ""))
        key = guard.admit(event) if guard is not None and not unsigned else None
        app.append_context(**{OPERATIONS: svc.operations, CALLER: key})  # Powertools clears it after each request
        response = app.resolve(event, context)
    except NotAuthorizedError as exc:
        logger.info("request refused", extra={"error_type": exc.code, "reason": exc.message})
        response = proxy_error(exc)
        response.setdefault("headers", {}).update(refusal_headers(event))
    except Exception:  # even a broken event gets the AWS error shape, never a Lambda error
        logger.exception("request could not be resolved")
        response = proxy_error(internal_failure())
    request_id = (event.get("requestContext") or {}).get("requestId") or getattr(context, "aws_request_id", "")
    if response.get("multiValueHeaders") is not None:  # the REST resolver answers with multi-value headers
        response["multiValueHeaders"]["x-amzn-RequestId"] = [request_id]
    else:
        response.setdefault("headers", {})["x-amzn-RequestId"] = request_id
    return response
