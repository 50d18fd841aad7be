"""Lambda entry point for the API (API Gateway REST proxy events); ``stillframe serve`` calls it too."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from stillframe.api.app import app
from stillframe.api.errors import internal_failure
from stillframe.observability import logger, metrics, tracer

# Powertools prints the cold-start metric even when metrics are disabled; only Lambda should emit it.
IN_LAMBDA = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=IN_LAMBDA)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Resolve one request; every response carries ``x-amzn-RequestId``."""
    try:
        response = app.resolve(event, context)
    except Exception:  # even a broken event gets the AWS error shape, never a Lambda error
        logger.exception("request could not be resolved")
        failure = internal_failure()
        response = {
            "statusCode": failure.status_code,
            "headers": {"Content-Type": "application/json", **failure.headers},
            "body": failure.body,
            "isBase64Encoded": False,
        }
    request_id = (event.get("requestContext") or {}).get("requestId") or getattr(context, "aws_request_id", "")
    if response.get("multiValueHeaders") is not None:  # the REST resolver answers with multi-value headers
        response["multiValueHeaders"]["x-amzn-RequestId"] = [request_id]
    else:
        response.setdefault("headers", {})["x-amzn-RequestId"] = request_id
    return response
