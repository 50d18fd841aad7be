"""Cross-origin (CORS) answers as Kinesis Video Streams gives them, so a browser app can call the API with the JS SDK.

KVS answers a preflight with ``Access-Control-Allow-Origin: *``, the request headers the SDK sends, ``POST``, the
``x-amzn-*`` headers exposed and a two-day max age. A signed API is safe to open to every origin: a foreign page
cannot make a valid signature. The deployed functions add these headers through the resolver (``api.app``); API
Gateway answers the preflights itself (``infra/constructs/rest_api.py`` keeps the same lists); ``stillframe serve``
answers both, and without authentication only for the origins it serves (``server.browsers``).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import CORSConfig

# What the JS SDK v3 sends from a browser (a session token's header included), and PutMedia's own headers.
ALLOW_HEADERS = (
    "authorization",
    "content-type",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-user-agent",
    "x-amz-content-sha256",
    "amz-sdk-invocation-id",
    "amz-sdk-request",
    "x-amzn-stream-name",
    "x-amzn-stream-arn",
    "x-amzn-fragment-timecode-type",
    "x-amzn-producer-start-timestamp",
)
ALLOW_METHODS = "POST"
# Without these a browser hides the error type from the SDK, which then cannot name the exception.
EXPOSE_HEADERS = ("x-amzn-RequestId", "x-amzn-ErrorType", "x-amzn-ErrorMessage", "Date")
MAX_AGE_S = 172_800


def resolver_cors() -> CORSConfig:
    """The resolver's CORS: every origin, on answers to requests that carry an Origin."""
    return CORSConfig(
        allow_origin="*",
        allow_headers=list(ALLOW_HEADERS),
        expose_headers=list(EXPOSE_HEADERS),
        max_age=MAX_AGE_S,
    )


def refusal_headers(event: dict[str, Any]) -> dict[str, str]:
    """CORS headers for an answer made outside the resolver (a keys-auth refusal), so a browser app reads the 401
    as one instead of as a CORS failure; none when the request carries no Origin."""
    headers = event.get("headers")
    if not isinstance(headers, dict) or not any(str(name).lower() == "origin" for name in headers):
        return {}
    return {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": ",".join(EXPOSE_HEADERS)}
