"""The HTTP front door of ``stillframe serve``: each request becomes an API Gateway REST proxy event.

The handler cannot tell this server from API Gateway: same event shape, same response dict, binary bodies
base64-encoded with ``isBase64Encoded`` as API Gateway does for binary media types. Anything escaping the handler
becomes a 500 in the AWS error shape, with the traceback only in the server log.

``events`` maps HTTP to proxy events and back, ``context`` is the local Lambda's limits and context object,
``http`` is the threaded server and its graceful stop, ``request_handler`` what happens to each request on a
connection, ``wire`` its HTTP framing, ``limits`` what it holds at once (connections, requests in the handler and
waiting, timeouts). ``gate`` holds what API Gateway checks before the Lambda
runs, both off unless configured: ``throttle`` (stage throttling) and SigV4 auth (``stillframe.access.sigv4``).
"""

from __future__ import annotations

from stillframe.access.sigv4 import SignedRequest, SigV4Verifier
from stillframe.server.context import DEADLINE_MARGIN_MS, DEFAULT_MAX_BODY_BYTES, LocalLambdaContext, ServerConfig
from stillframe.server.events import build_event, decode_response, is_text_type
from stillframe.server.gate import Refusal, RequestGate
from stillframe.server.http import IDLE_TIMEOUT_S, ProxyHandler, StillframeServer
from stillframe.server.limits import ServerLimits
from stillframe.server.throttle import TokenBucket, default_burst

__all__ = [
    "DEADLINE_MARGIN_MS",
    "DEFAULT_MAX_BODY_BYTES",
    "IDLE_TIMEOUT_S",
    "LocalLambdaContext",
    "ProxyHandler",
    "Refusal",
    "RequestGate",
    "ServerConfig",
    "ServerLimits",
    "SigV4Verifier",
    "SignedRequest",
    "StillframeServer",
    "TokenBucket",
    "build_event",
    "decode_response",
    "default_burst",
    "is_text_type",
]
