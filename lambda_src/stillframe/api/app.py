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

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from stillframe.api import (
    errors,
    routes_image_generation,
    routes_media,
    routes_stream_admin,
    routes_streams,
    validation,
)
from stillframe.api.cors import resolver_cors
from stillframe.errors import StillframeError
from stillframe.observability import logger

# CORS as KVS answers it (``api.cors``): a browser app signing with the JS SDK can read every answer.
app = APIGatewayRestResolver(enable_validation=True, cors=resolver_cors())
validation.install(app)
app.include_router(routes_streams.router)
app.include_router(routes_media.router)
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
