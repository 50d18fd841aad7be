"""The HTTP front door of ``stillframe serve``: each request becomes an API Gateway REST proxy event.

The handler cannot tell this server from API Gateway: same event shape, same response dict, binary bodies
base64-encoded with ``isBase64Encoded`` as API Gateway does for binary media types. Anything escaping the handler
becomes a 500 in the AWS error shape, with the traceback only in the server log.

``events`` maps HTTP to proxy events and back, ``context`` is the local Lambda's limits and context object,
``http`` is the threaded server and its graceful stop.
"""

from __future__ import annotations

from stillframe.server.context import DEADLINE_MARGIN_MS, DEFAULT_MAX_BODY_BYTES, LocalLambdaContext, ServerConfig
from stillframe.server.events import build_event, decode_response, error_response, is_text_type
from stillframe.server.http import IDLE_TIMEOUT_S, ProxyHandler, StillframeServer

__all__ = [
    "DEADLINE_MARGIN_MS",
    "DEFAULT_MAX_BODY_BYTES",
    "IDLE_TIMEOUT_S",
    "LocalLambdaContext",
    "ProxyHandler",
    "ServerConfig",
    "StillframeServer",
    "build_event",
    "decode_response",
    "error_response",
    "is_text_type",
]
