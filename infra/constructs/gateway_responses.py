"""API Gateway's own error responses, rewritten to the AWS error shape that SDK clients parse.

boto3 picks the exception class from the ``x-amzn-ErrorType`` header (then the body's ``__type``), so a
request refused by the gateway itself (throttled, unsigned, too large) raises the same modeled exception a
KVS client expects, e.g. ``client.exceptions.ClientLimitExceededException``.

The gateway's status codes are kept: 429 makes SDKs back off and retry a throttled call, 5xx makes them
retry a failed one, and 401/403/404/413 tell a curl user what happened. Only the type and body change.
Each also carries CORS headers, so a browser app (the JS SDK) can read why its call was refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aws_cdk import aws_apigateway as apigw

NOT_AUTHORIZED = "NotAuthorizedException"
CLIENT_LIMIT_EXCEEDED = "ClientLimitExceededException"
INVALID_ARGUMENT = "InvalidArgumentException"
UNKNOWN_OPERATION = "UnknownOperationException"
INTERNAL_FAILURE = "InternalFailure"

# Headers a browser shows the caller's script: without x-amzn-ErrorType the SDK cannot name the exception.
CORS_EXPOSE_HEADERS = ("x-amzn-RequestId", "x-amzn-ErrorType", "x-amzn-ErrorMessage", "Date")

# $context.error.messageString is already a quoted JSON string, so it goes into the body unquoted.
GATEWAY_MESSAGE = "$context.error.messageString"


@dataclass(frozen=True)
class ErrorMapping:
    """One gateway response type and the AWS error it becomes; ``message`` None = the gateway's message."""

    response_type: apigw.ResponseType
    error_type: str
    message: str | None = None


# Every type a client of this API can meet; the two DEFAULT_ entries catch all other 4xx and 5xx types
# (BAD_REQUEST_BODY, UNSUPPORTED_MEDIA_TYPE, INTEGRATION_TIMEOUT, ...). Unknown paths never get here when
# signed: the API's catch-all route sends them to the control-plane function, which answers 404
# UnknownOperationException. Unsigned requests, and other methods on known paths, get
# MISSING_AUTHENTICATION_TOKEN, hence NotAuthorizedException.
AWS_ERROR_MAPPINGS: tuple[ErrorMapping, ...] = (
    ErrorMapping(apigw.ResponseType.THROTTLED, CLIENT_LIMIT_EXCEEDED),
    ErrorMapping(apigw.ResponseType.QUOTA_EXCEEDED, CLIENT_LIMIT_EXCEEDED),
    ErrorMapping(apigw.ResponseType.ACCESS_DENIED, NOT_AUTHORIZED),
    ErrorMapping(apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, NOT_AUTHORIZED),
    ErrorMapping(apigw.ResponseType.INVALID_SIGNATURE, NOT_AUTHORIZED),
    ErrorMapping(apigw.ResponseType.EXPIRED_TOKEN, NOT_AUTHORIZED),
    ErrorMapping(apigw.ResponseType.UNAUTHORIZED, NOT_AUTHORIZED),
    ErrorMapping(apigw.ResponseType.INVALID_API_KEY, NOT_AUTHORIZED),
    ErrorMapping(apigw.ResponseType.WAF_FILTERED, NOT_AUTHORIZED),
    ErrorMapping(apigw.ResponseType.REQUEST_TOO_LARGE, INVALID_ARGUMENT),
    ErrorMapping(apigw.ResponseType.RESOURCE_NOT_FOUND, UNKNOWN_OPERATION),
    ErrorMapping(apigw.ResponseType.DEFAULT_4_XX, INVALID_ARGUMENT),
    # A 5xx says nothing about the inside (timeouts, integration errors): the details are in the logs.
    ErrorMapping(apigw.ResponseType.DEFAULT_5_XX, INTERNAL_FAILURE, message="Internal failure"),
)


def error_body_template(mapping: ErrorMapping) -> str:
    """The gateway response body: ``{"__type": ..., "message": ...}``."""
    message = GATEWAY_MESSAGE if mapping.message is None else json.dumps(mapping.message)
    return f'{{"__type": {json.dumps(mapping.error_type)}, "message": {message}}}'


def add_aws_error_responses(api: apigw.RestApi) -> list[apigw.GatewayResponse]:
    """Add one gateway response per mapping to ``api``."""
    return [
        api.add_gateway_response(
            f"{mapping.response_type.response_type.title().replace('_', '')}Response",
            type=mapping.response_type,
            response_headers={
                "x-amzn-ErrorType": f"'{mapping.error_type}'",
                "Access-Control-Allow-Origin": "'*'",
                "Access-Control-Expose-Headers": f"'{','.join(CORS_EXPOSE_HEADERS)}'",
            },
            templates={"application/json": error_body_template(mapping)},
        )
        for mapping in AWS_ERROR_MAPPINGS
    ]
