"""API Gateway REST proxy shapes: an HTTP request as a proxy event, a proxy response dict as HTTP.

Binary bodies travel base64-encoded with ``isBase64Encoded``, as API Gateway does for binary media types.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote

_TEXT_TYPES = ("application/json", "application/xml", "application/x-www-form-urlencoded", "application/javascript")
_MANAGED_HEADERS = {"content-length", "transfer-encoding", "connection"}


def is_text_type(content_type: str) -> bool:
    """True for bodies API Gateway passes as text (JSON, XML, forms, ``text/*``); all else is binary."""
    main = content_type.split(";", 1)[0].strip().lower()
    return (
        main.startswith("text/")
        or main in _TEXT_TYPES
        or main.endswith("+json")
        or main.startswith("application/x-amz-json")
    )


def build_event(
    *,
    method: str,
    target: str,
    headers: Iterable[tuple[str, str]],
    body: bytes | None,
    source_ip: str,
    request_id: str,
    protocol: str = "HTTP/1.1",
    account_id: str = "000000000000",
    now_ms: int | None = None,
    scheme: str = "http",
) -> dict[str, Any]:
    """The API Gateway REST proxy event for one HTTP request (no stage prefix: resource == path)."""
    raw_path, _, query = target.partition("?")
    path = unquote(raw_path) or "/"
    # API Gateway sets X-Forwarded-Proto itself, whatever the client sent: the scheme this server speaks.
    single, multi = _header_maps((name, value) for name, value in headers if name.lower() != "x-forwarded-proto")
    single["X-Forwarded-Proto"] = scheme
    multi["X-Forwarded-Proto"] = [scheme]
    pairs = parse_qsl(query, keep_blank_values=True)
    text_body, is_base64 = _event_body(body, _get(single, "Content-Type"))
    host = _get(single, "Host")
    epoch_ms = int(time.time() * 1000) if now_ms is None else now_ms
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": single,
        "multiValueHeaders": multi,
        "queryStringParameters": dict(pairs) or None,
        "multiValueQueryStringParameters": _multi(pairs) or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": account_id,
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0],
            "extendedRequestId": request_id,
            "httpMethod": method,
            "identity": {"sourceIp": source_ip, "userAgent": _get(single, "User-Agent")},
            "path": path,
            "protocol": protocol,
            "requestId": request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(epoch_ms / 1000)),
            "requestTimeEpoch": epoch_ms,
            "resourceId": "local",
            "resourcePath": path,
            "stage": "local",
        },
        "body": text_body,
        "isBase64Encoded": is_base64,
    }


def decode_response(response: Mapping[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, header pairs and body bytes of a proxy response, merging headers as API Gateway does."""
    status = int(response["statusCode"])
    multi: Mapping[str, list[Any]] = response.get("multiValueHeaders") or {}
    pairs = [(name, str(value)) for name, values in multi.items() for value in values]
    present = {(name.lower(), value) for name, value in pairs}
    for name, value in (response.get("headers") or {}).items():
        if (name.lower(), str(value)) not in present:
            pairs.append((name, str(value)))
    pairs = [(name, value) for name, value in pairs if name.lower() not in _MANAGED_HEADERS]
    body = response.get("body") or ""
    payload = base64.b64decode(body) if response.get("isBase64Encoded") else str(body).encode("utf-8")
    return status, pairs, payload


def _header_maps(headers: Iterable[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in headers:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return single, multi


def _get(headers: Mapping[str, str], name: str) -> str:
    lowered = name.lower()
    return next((value for key, value in headers.items() if key.lower() == lowered), "")


def _multi(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


def _event_body(body: bytes | None, content_type: str) -> tuple[str | None, bool]:
    if body is None:
        return None, False
    if is_text_type(content_type):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass  # declared text but is not: pass it on losslessly
    return base64.b64encode(body).decode("ascii"), True
