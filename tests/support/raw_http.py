"""Talking to a server below http.client: raw bytes out, one parsed answer back, and the AWS-shape check."""

from __future__ import annotations

import http.client
import json
import socket
from typing import Any
from urllib.parse import urlsplit


def address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def exchange(url: str, raw: bytes, *, timeout: float = 10.0) -> http.client.HTTPResponse:
    """Send ``raw`` on a new connection and parse the one answer (its body read)."""
    sock = socket.create_connection(address(url), timeout=timeout)
    try:
        sock.sendall(raw)
        response = http.client.HTTPResponse(sock)
        response.begin()
        response.body = response.read()  # type: ignore[attr-defined]
        return response
    finally:
        sock.close()


def assert_aws_shaped(status: int, headers: Any, payload: bytes) -> dict[str, Any] | None:
    """Every answer: a request id and no server banner; an error also ``x-amzn-ErrorType`` = ``__type``."""
    assert status < 500, (status, payload[:300])
    assert headers.get("x-amzn-RequestId"), (status, dict(headers))
    assert headers.get("Server") is None, dict(headers)
    if status < 400:
        return None
    body = json.loads(payload)
    assert headers.get("x-amzn-ErrorType") == body["__type"], (dict(headers), body)
    assert isinstance(body["message"], str) and "Traceback" not in body["message"]
    return dict(body)
