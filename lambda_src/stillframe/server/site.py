"""What ``stillframe serve`` answers besides the KVS API: ``GET /health`` and the viewer's static files.

They sit in front of the API handler as a wrapper of the same proxy-handler shape, so the HTTP server, its gate
and its limits treat them like any request, and every other path (and every method but GET and HEAD) still reaches
the handler, whose answer for an unknown path is the AWS-shaped 404. The deployed API has neither: API Gateway
routes only the KVS operations.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from stillframe import __version__
from stillframe.domain.playback import PLAYBACK_PATHS
from stillframe.server.http import ProxyHandler

HEALTH_PATH = "/health"
VIEWER_PACKAGE = "stillframe.viewer"
# URL path -> (file in the viewer package, Content-Type)
VIEWER_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/viewer/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/viewer/playback.js": ("playback.js", "text/javascript; charset=utf-8"),
    "/viewer/vendor/hls.min.js": ("vendor/hls.min.js", "text/javascript; charset=utf-8"),
    "/viewer/style.css": ("style.css", "text/css; charset=utf-8"),
}
# The viewer runs only its own files: no inline script or style, stills as data: URLs, calls to this server alone,
# and no other site may frame it (clickjacking its buttons). Video plays through Media Source Extensions, whose
# media is a blob: URL the page made; hls.js runs without its worker (a blob: script), so worker-src stays 'none'.
VIEWER_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
    "connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# What GET may fetch unsigned when serve requires signatures: nothing here names or shows a stream.
# Playback sessions' GETs are open too: players cannot sign, and each carries its SessionToken instead.
OPEN_PATHS = frozenset({HEALTH_PATH, *VIEWER_FILES, *PLAYBACK_PATHS})


def with_site(handler: ProxyHandler, *, store: str) -> ProxyHandler:
    """``handler`` with ``GET /health`` (status, store, version) and the viewer at ``GET /`` in front of it."""

    def site(event: dict[str, Any], context: Any) -> Mapping[str, Any]:
        if event.get("httpMethod") not in ("GET", "HEAD"):
            return handler(event, context)
        path = event.get("path") or "/"
        if path == HEALTH_PATH:
            body = {"status": "ok", "store": store, "version": __version__}
            return _answer(json.dumps(body), "application/json", context, revalidate=False)
        if path in VIEWER_FILES:
            name, content_type = VIEWER_FILES[path]
            return _answer(viewer_file(name), content_type, context, revalidate=True)
        return handler(event, context)

    return site


@cache
def viewer_file(name: str) -> str:
    """The text of one of the viewer's static files (read once per process)."""
    return resources.files(VIEWER_PACKAGE).joinpath(name).read_text(encoding="utf-8")


def _answer(body: str, content_type: str, context: Any, *, revalidate: bool) -> dict[str, Any]:
    headers = {
        "Content-Type": content_type,
        "x-amzn-RequestId": str(getattr(context, "aws_request_id", "")),
        "X-Content-Type-Options": "nosniff",
        # no-cache: a new version of the viewer is picked up on the next load; health is never stored.
        "Cache-Control": "no-cache" if revalidate else "no-store",
        "Content-Security-Policy": VIEWER_CSP,
        "X-Frame-Options": "DENY",  # frame-ancestors' older spelling, for browsers without CSP 2
        "Referrer-Policy": "no-referrer",
    }
    return {"statusCode": 200, "headers": headers, "body": body, "isBase64Encoded": False}
