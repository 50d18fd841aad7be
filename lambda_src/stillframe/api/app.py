"""The resolver: every operation of the API, and the one place errors become AWS-shaped responses.

Requests are validated by Powertools (``enable_validation=True``) against one model per operation
(``stillframe.domain.requests``, ``stillframe.domain.stream_requests``); the same models generate
``docs/openapi.json``. A model-validated route, as every route here is written::

    @router.post("/describeStream")
    def describe_stream(request: DescribeStreamRequest) -> dict[str, Any]:
        return operations(router).describe_stream(request)

The parameter's model type makes Powertools read the JSON body into it; a broken rule never reaches the route
and is answered 400 by ``api.validation`` (the field as the client spelled it, and the rule). ``operations(router)``
is the process's ``Operations`` (``stillframe.operations``), which ``lambda_handler`` appends to the context.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from stillframe.access.policy import admit_streams
from stillframe.api import (
    errors,
    routes_image_generation,
    routes_media,
    routes_playback,
    routes_stream_admin,
    routes_streams,
    validation,
)
from stillframe.api.body import headers_request
from stillframe.api.context import caller
from stillframe.api.cors import resolver_cors
from stillframe.domain.operations import OperationSpec, operation_at
from stillframe.domain.shapes import WireModel
from stillframe.errors import StillframeError
from stillframe.observability import logger

# Powertools' validation middleware keeps a route's validated arguments here; global middlewares run after it.
_ROUTE_ARGS = "_route_args"


def authorize_streams(resolver: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    """A stream-limited caller reaches only its streams: decided on the validated request, as the route will see it.

    Runs after validation (a request that breaks a rule never gets here) and before the route; with no key in
    the context (no keys auth) there is nothing to decide. The stream is also noted for the invoker's request log
    (serve's context has a ``request_log``; Lambda's has none).
    """
    spec = operation_at(resolver.current_event.path)
    if spec is not None:
        request = validated_request(resolver, spec)
        key = caller(resolver)
        if key is not None:
            admit_streams(key, spec, request)
        note = getattr(resolver.lambda_context, "request_log", None)
        if isinstance(note, dict) and (streams := request.streams_named()):
            note["stream"] = streams[0]
    return next_middleware(resolver)


def validated_request(resolver: APIGatewayRestResolver, spec: OperationSpec) -> WireModel:
    """The operation's request model as validated for this request (headers for PutMedia, else the route's body)."""
    if spec.from_headers:
        return headers_request(resolver.current_event, spec.request)
    arguments: dict[str, Any] = resolver.context.get(_ROUTE_ARGS) or {}
    found = [value for value in arguments.values() if isinstance(value, spec.request)]
    if len(found) != 1:  # every route takes its row's model: a route that does not is a wiring defect
        raise RuntimeError(f"route {spec.path} has no validated {spec.request.__name__}")
    return found[0]


# CORS as KVS answers it (``api.cors``): a browser app signing with the JS SDK can read every answer.
app = APIGatewayRestResolver(enable_validation=True, cors=resolver_cors())
validation.install(app)
app.use(middlewares=[authorize_streams])
app.include_router(routes_streams.router)
app.include_router(routes_media.router)
app.include_router(routes_playback.router)
app.include_router(routes_stream_admin.router)
app.include_router(routes_image_generation.router)


@app.exception_handler(StillframeError)
def handle_stillframe_error(exc: StillframeError) -> Response:
    if exc.status >= 500:
        logger.exception("request failed", extra={"error_type": exc.code})
    return errors.from_error(exc)


@app.exception_handler(Exception)
def handle_unexpected(exc: Exception) -> Response:
    logger.exception("unexpected failure", extra={"error_type": type(exc).__name__})
    return errors.from_error(errors.internal_failure())


@app.not_found
def handle_not_found(exc: Exception) -> Response:
    event = app.current_event
    return errors.from_error(errors.not_found(event.http_method, event.path))
