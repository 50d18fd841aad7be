"""Keys auth in the API function: check the SigV4 signature of the request an API Gateway proxy event carries.

With ``STILLFRAME_AUTH=keys`` API Gateway lets every request through, and the function itself verifies the
signature (made for ``kinesisvideo`` by unmodified KVS clients) against Stillframe's key store, and whether the key
may call the operation at all (read-only keys), before the resolver runs; which streams it may reach is decided
on the validated request (``api.app``'s ``authorize_streams``). The signed request is rebuilt from the event:
method, path, query string, ``multiValueHeaders``, body (base64-decoded when ``isBase64Encoded``).

The path: a client signs the path it sent, which on AWS includes the stage (``requestContext.path``,
``/v1/getImages``) and on LocalStack may be ``/_aws/execute-api/<apiId>/<stage>/getImages``. The signature is
accepted over any of a few such spellings. That is safe: every candidate ends in the event's ``path``, the one the
resolver routes on and the one authorized, so each names the same operation on the same API; and the signature
still covers the host, the body and the time.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from stillframe.access.backends import CachedKeys, KeyBackend, KeyFile, SecretsManagerKeys
from stillframe.access.keystore import AccessKey
from stillframe.access.policy import admit_operation
from stillframe.access.sigv4 import SignedRequest, SigV4Verifier
from stillframe.domain.operations import operation_at
from stillframe.errors import NotAuthorizedError
from stillframe.settings import Settings

LOCALSTACK_PATH_PREFIX = "/_aws/execute-api/"


@dataclass(frozen=True)
class KeysGuard:
    """Admits requests signed with an active key of the store, for what that key may do."""

    verifier: SigV4Verifier

    def admit(self, event: dict[str, Any]) -> AccessKey:
        """The key that signed the event's request, if it may call the operation; NotAuthorizedError if not."""
        key = self.verifier.verify(signed_request(event))
        admit_operation(key, operation_at(str(event.get("path") or "")))
        return key


@cache
def guard_for(settings: Settings) -> KeysGuard | None:
    """The guard ``settings`` ask for (None with ``STILLFRAME_AUTH=none``); one per settings for the process's life,
    so its key cache stays warm across requests."""
    if settings.auth != "keys":
        return None
    backend: KeyBackend
    if settings.keys_file:
        backend = KeyFile(Path(settings.keys_file))
    else:
        backend = SecretsManagerKeys(settings.keys_secret_arn, region=settings.region)
    keys = CachedKeys(backend, ttl_s=settings.keys_cache_seconds)
    return KeysGuard(SigV4Verifier(keys, allow_unsigned_payload=False))


def signed_request(event: dict[str, Any]) -> SignedRequest:
    """The HTTP request behind a REST proxy event, as the client signed it (see the module docstring)."""
    context = event.get("requestContext") or {}
    paths = candidate_paths(event)
    query = _query(event.get("multiValueQueryStringParameters") or {})
    target = paths[0] + (f"?{query}" if query else "")
    body = _body(event)
    return SignedRequest(
        method=str(event.get("httpMethod") or context.get("httpMethod") or ""),
        target=target,
        headers=_headers(event, body),
        body=body,
        also_signed_as=paths[1:],
    )


def candidate_paths(event: dict[str, Any]) -> tuple[str, ...]:
    """The paths a client may have signed for this event, most likely first; each ends in the event's path."""
    context = event.get("requestContext") or {}
    path = _raw(str(event.get("path") or "/"))
    stage = str(context.get("stage") or "")
    forms = [_raw(str(context.get("path") or path)), f"/{stage}{path}" if stage else path, path]
    forms = [form for form in forms if form.endswith(path)]  # never a path naming another resource
    api_id = str(context.get("apiId") or "")
    if api_id:
        forms += [LOCALSTACK_PATH_PREFIX + api_id + form for form in forms if not form.startswith("/_aws/")]
    return tuple(dict.fromkeys(forms))


def _raw(path: str) -> str:
    # API Gateway hands the path decoded; the client signed it percent-encoded.
    return quote(path, safe="/~!$&'()*+,;=:@-._")


def _query(parameters: dict[str, Any]) -> str:
    pairs = []
    for name, values in parameters.items():
        for value in values if isinstance(values, list) else [values]:
            pairs.append(f"{quote(str(name), safe='')}={quote(str(value), safe='')}")
    return "&".join(pairs)


def _headers(event: dict[str, Any], body: bytes | None) -> list[tuple[str, str]]:
    multi = event.get("multiValueHeaders")
    if multi:
        pairs = [(str(name), str(value)) for name, values in multi.items() for value in values or []]
    else:
        pairs = [(str(name), str(value)) for name, value in (event.get("headers") or {}).items()]
    if not any(name.lower() == "content-length" for name, _ in pairs):
        # The JS SDK signs Content-Length and a proxy event may not carry it; the body (signed too) fixes it.
        pairs.append(("Content-Length", str(len(body or b""))))
    return pairs


def _body(event: dict[str, Any]) -> bytes | None:
    body = event.get("body")
    if body is None:
        return None
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(str(body), validate=True)
        except (binascii.Error, ValueError) as exc:
            message = "The request body is not valid base64, so its signature cannot be checked."
            raise NotAuthorizedError(message) from exc
    return str(body).encode("utf-8")


def session_key_check(settings: Settings) -> Callable[[str, str], None] | None:
    """With keys auth, the check a playback request makes of the key its session was issued to: still active, still
    reaching the stream (a revoked key's sessions stop at once, not when they expire). None without keys auth."""
    guard = guard_for(settings)
    if guard is None:
        return None
    keys = guard.verifier.keys

    def check(access_key_id: str, stream_name: str) -> None:
        key = keys.find(access_key_id)
        if key is None or not key.active:
            raise NotAuthorizedError(f"The access key {access_key_id} this session was made for is no longer active")
        if not key.covers_stream(stream_name):
            raise NotAuthorizedError(f"The access key {access_key_id} may no longer use stream {stream_name!r}")

    return check
