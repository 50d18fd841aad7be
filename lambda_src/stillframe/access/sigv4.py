"""AWS Signature Version 4 checking against a key store: ``stillframe serve``'s AWS_IAM stand-in and "keys" auth.

The signature is recomputed from the request exactly as received (method, raw path, query string, the headers
named in SignedHeaders, the payload hash) with the secret of the access key it names, and compared in constant
time. ``serve --access-key-id`` uses a store of one key; "keys" auth (Lambda and ``serve --keys-file``) uses
Stillframe's key store. Requests signed for ``kinesisvideo`` (what unmodified KVS clients sign for) and
``execute-api`` (what clients of an AWS_IAM deployment sign for) are both accepted, in any region: the keys are
Stillframe's own and valid for no AWS service, so the service in the scope separates nothing. Every refusal is a
``NotAuthorizedError`` whose message says what was wrong and never contains a secret.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol
from urllib.parse import quote, unquote, urlsplit

from stillframe.access.keystore import AccessKey, KeyStore, format_time
from stillframe.errors import NotAuthorizedError

ALGORITHM = "AWS4-HMAC-SHA256"
SIGNING_SERVICES = ("kinesisvideo", "execute-api")
MAX_CLOCK_SKEW = timedelta(minutes=15)
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
REQUIRED_SIGNED_HEADERS = ("host", "x-amz-date")  # without them a signature could be replayed anywhere, any time

MISSING_TOKEN = "Missing Authentication Token: this server only accepts AWS SigV4-signed requests."
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method."
)
_AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class SignedRequest:
    """An HTTP request as the server received it: raw request target (path and query), header pairs, body.

    ``also_signed_as``: other paths the client may have signed for the same resource (API Gateway's stage path
    and LocalStack's ``/_aws/execute-api/<api>/<stage>/...`` form); a signature over any of them passes.
    """

    method: str
    target: str
    headers: Sequence[tuple[str, str]]
    body: bytes | None
    also_signed_as: tuple[str, ...] = ()


@dataclass(frozen=True)
class Authorization:
    """The parts of an ``AWS4-HMAC-SHA256`` Authorization header."""

    access_key_id: str
    date: str  # YYYYMMDD of the credential scope
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str

    @property
    def scope(self) -> str:
        """The credential scope, ``date/region/service/aws4_request``."""
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


class KeyLookup(Protocol):
    """Where the verifier finds keys: a ``KeyStore``, or ``CachedKeys`` over a file or secret."""

    def find(self, access_key_id: str) -> AccessKey | None:
        """The key with this ID (revoked ones included), or None."""


@dataclass(frozen=True)
class SigV4Verifier:
    """Accepts requests signed with an active key of ``keys``; ``verify`` raises ``NotAuthorizedError`` otherwise.

    ``allow_unsigned_payload``: accept ``X-Amz-Content-Sha256: UNSIGNED-PAYLOAD`` (API Gateway's AWS_IAM does);
    "keys" auth refuses it, so a signature always covers the body.
    """

    keys: KeyLookup
    allow_unsigned_payload: bool = True
    max_clock_skew: timedelta = MAX_CLOCK_SKEW

    @classmethod
    def single(cls, access_key_id: str, secret_access_key: str) -> SigV4Verifier:
        """A verifier for one key pair (``serve --access-key-id/--secret-access-key``)."""
        return cls(KeyStore.single(access_key_id, secret_access_key))

    def precheck(self, header_pairs: Sequence[tuple[str, str]], *, now: datetime | None = None) -> None:
        """The checks the headers alone settle (form, service, known key, clock), so a body is read only after them.

        Raises NotAuthorizedError as ``verify`` would; ``verify`` still does all of it, with the signature.
        """
        headers = header_values(header_pairs)
        auth = self._known_key(headers)[0]
        self._checked_date(headers, auth, now or datetime.now(UTC))

    def verify(self, request: SignedRequest, *, now: datetime | None = None) -> AccessKey:
        """The key that validly signed ``request``; NotAuthorizedError saying why the request is not valid."""
        headers = header_values(request.headers)
        auth, key = self._known_key(headers)
        amz_date = self._checked_date(headers, auth, now or datetime.now(UTC))
        payload_hash = _payload_hash(headers, request.body, allow_unsigned=self.allow_unsigned_payload)
        path, query = _split_target(request.target)
        for candidate in dict.fromkeys((path, *request.also_signed_as)):
            canonical = canonical_request(request.method, candidate, query, headers, auth.signed_headers, payload_hash)
            if hmac.compare_digest(signature(key.secret_access_key, auth, amz_date, canonical), auth.signature):
                break
        else:
            raise NotAuthorizedError(SIGNATURE_MISMATCH)
        if key.revoked is not None:  # said only to a caller who proved it holds the secret
            raise NotAuthorizedError(
                f"The security token included in the request is invalid: access key ID {key.access_key_id!r} "
                f"was revoked at {format_time(key.revoked)}."
            )
        return key

    def _known_key(self, headers: Mapping[str, list[str]]) -> tuple[Authorization, AccessKey]:
        auth = parse_authorization(_first(headers, "authorization"))
        if auth.service not in SIGNING_SERVICES:
            raise NotAuthorizedError(
                f"Credential should be scoped to service kinesisvideo or execute-api, not {auth.service!r}."
            )
        key = self.keys.find(auth.access_key_id)
        if key is None:
            raise NotAuthorizedError(
                f"The security token included in the request is invalid: access key ID {auth.access_key_id!r} "
                "is not known to this server."
            )
        return auth, key

    def _checked_date(self, headers: Mapping[str, list[str]], auth: Authorization, now: datetime) -> str:
        amz_date = _first(headers, "x-amz-date")
        if amz_date is None:
            raise NotAuthorizedError("The request has no X-Amz-Date header; SigV4 requests must carry one.")
        try:
            signed_at = datetime.strptime(amz_date, _AMZ_DATE_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            raise NotAuthorizedError(f"X-Amz-Date {amz_date!r} is not in the form YYYYMMDD'T'HHMMSS'Z'.") from None
        if amz_date[:8] != auth.date:
            raise NotAuthorizedError(
                f"Date in Credential scope {auth.date} does not match YYYYMMDD from X-Amz-Date {amz_date}."
            )
        minutes = int(self.max_clock_skew.total_seconds() // 60)
        if signed_at < now - self.max_clock_skew:
            oldest = (now - self.max_clock_skew).strftime(_AMZ_DATE_FORMAT)
            raise NotAuthorizedError(
                f"Signature expired: {amz_date} is now earlier than {oldest} "
                f"({now.strftime(_AMZ_DATE_FORMAT)} - {minutes} min.)"
            )
        if signed_at > now + self.max_clock_skew:
            latest = (now + self.max_clock_skew).strftime(_AMZ_DATE_FORMAT)
            raise NotAuthorizedError(
                f"Signature not yet current: {amz_date} is still later than {latest} "
                f"({now.strftime(_AMZ_DATE_FORMAT)} + {minutes} min.)"
            )
        return amz_date


def parse_authorization(value: str | None) -> Authorization:
    """The parts of an ``AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`` header."""
    if not value or not value.strip():
        raise NotAuthorizedError(MISSING_TOKEN)
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise NotAuthorizedError(f"The Authorization header must use {ALGORITHM} (AWS Signature Version 4).")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, _, field_value = part.strip().partition("=")
        fields[name] = field_value
    credential = fields.get("Credential", "").split("/")
    signed_headers = tuple(name for name in fields.get("SignedHeaders", "").split(";") if name)
    if len(credential) != 5 or credential[4] != "aws4_request" or not signed_headers or not fields.get("Signature"):
        raise NotAuthorizedError(
            "The Authorization header is malformed: expected "
            f"'{ALGORITHM} Credential=AKID/YYYYMMDD/region/service/aws4_request, SignedHeaders=..., Signature=...'."
        )
    missing = [name for name in REQUIRED_SIGNED_HEADERS if name not in signed_headers]
    if missing:
        raise NotAuthorizedError(f"SignedHeaders must include {' and '.join(missing)}.")
    access_key_id, date, region, service, _ = credential
    return Authorization(access_key_id, date, region, service, signed_headers, fields["Signature"])


def canonical_request(
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, list[str]],
    signed_headers: Sequence[str],
    payload_hash: str,
) -> str:
    """The SigV4 canonical request, from the raw path and query as sent and the headers the client signed."""
    lines = [method.upper(), _canonical_path(path), _canonical_query(query)]
    for name in signed_headers:
        values = headers.get(name)
        if values is None:
            raise NotAuthorizedError(f"Signed header {name!r} is not in the request.")
        # Values are trimmed and inner runs of spaces collapsed; repeated headers join with commas.
        lines.append(f"{name}:{','.join(' '.join(value.split()) for value in values)}")
    return "\n".join([*lines, "", ";".join(signed_headers), payload_hash])


def signature(secret_access_key: str, auth: Authorization, amz_date: str, canonical: str) -> str:
    """The hex SigV4 signature of ``canonical`` for the credential scope in ``auth``."""
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    string_to_sign = "\n".join([ALGORITHM, amz_date, auth.scope, digest])
    key = ("AWS4" + secret_access_key).encode("utf-8")
    for part in (auth.date, auth.region, auth.service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def header_values(pairs: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """Header values by lower-case name, in the order received."""
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        values.setdefault(name.lower(), []).append(value)
    return values


def _first(headers: Mapping[str, list[str]], name: str) -> str | None:
    values = headers.get(name)
    return values[0] if values else None


def _payload_hash(headers: Mapping[str, list[str]], body: bytes | None, *, allow_unsigned: bool) -> str:
    actual = hashlib.sha256(body or b"").hexdigest()
    declared = _first(headers, "x-amz-content-sha256")
    if declared is None:
        return actual
    if declared == UNSIGNED_PAYLOAD and not allow_unsigned:
        raise NotAuthorizedError(
            f"X-Amz-Content-Sha256: {UNSIGNED_PAYLOAD} is not accepted here: sign the SHA-256 of the request body."
        )
    # The declared hash is what gets signed, so it must be the body's, or the body could be swapped freely.
    if declared != UNSIGNED_PAYLOAD and declared.strip().lower() != actual:
        raise NotAuthorizedError(
            "The X-Amz-Content-Sha256 header does not match the SHA-256 of the request body "
            f"(send the hex digest of the body, or {UNSIGNED_PAYLOAD})."
        )
    return declared


def _split_target(target: str) -> tuple[str, str]:
    if target.startswith("/"):
        path, _, query = target.partition("?")
        return path, query
    parts = urlsplit(target)  # absolute-form target, as sent through a proxy
    return parts.path, parts.query


def _canonical_path(path: str) -> str:
    # As the SDKs do for every service but S3: drop dot segments and empty segments, then URI-encode the path
    # as sent (so an already-encoded path is encoded twice).
    return quote(_normalized_path(path), safe="/~")


def _normalized_path(path: str) -> str:
    """RFC 3986 dot-segment removal, also dropping empty segments (botocore's normalize_url_path)."""
    if not path:
        return "/"
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment not in ("", "."):
            kept.append(segment)
    lead = "/" if path.startswith("/") else ""
    trail = "/" if path.endswith("/") and kept else ""
    return lead + "/".join(kept) + trail


def _canonical_query(query: str) -> str:
    pairs = [pair.partition("=") for pair in query.split("&") if pair]
    encoded = sorted((_uri_encode(unquote(name)), _uri_encode(unquote(value))) for name, _, value in pairs)
    return "&".join(f"{name}={value}" for name, value in encoded)


def _uri_encode(text: str) -> str:
    return quote(text, safe="-_.~")
