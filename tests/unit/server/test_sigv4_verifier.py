"""SigV4 checking in `stillframe serve`: what boto3 signs passes, anything altered or stale is refused, saying why."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config
from botocore.credentials import Credentials

from stillframe.client import Signing, clients, sign_headers
from stillframe.errors import NotAuthorizedError
from stillframe.server import SignedRequest, SigV4Verifier

AKID = "AKIDSTILLFRAME"
SECRET = "very-secret-key/with+odd=chars"
VERIFIER = SigV4Verifier.single(AKID, SECRET)
LOCAL = "http://127.0.0.1:4566"
STAGE = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"
T = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)
GET_IMAGES = {
    "StreamName": "cam",
    "ImageSelectorType": "PRODUCER_TIMESTAMP",
    "StartTimestamp": T,
    "EndTimestamp": T + timedelta(seconds=2),
    "SamplingInterval": 500,
    "Format": "JPEG",
}


class _Captured(Exception):
    def __init__(self, request: Any) -> None:
        self.request = request


def _stop_before_send(request: Any, **_: Any) -> None:
    raise _Captured(request)


def as_received(method: str, url: str, headers: Any, body: bytes | None) -> SignedRequest:
    """The request as the server reads it off the wire: target, Host as urllib3 sends it, str headers."""
    parts = urlsplit(url)
    default_port = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname if parts.port in (None, default_port) else f"{parts.hostname}:{parts.port}"
    pairs = [("Host", str(host))]
    for name, value in headers.items():
        pairs.append((name, value.decode() if isinstance(value, bytes) else value))
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return SignedRequest(method, target, pairs, body)


def boto3_request(endpoint: str, operation: str, *, secret: str = SECRET, signing_name: str | None = None) -> Any:
    """The request an unmodified boto3 client signs for ``operation`` (describe_stream or get_images)."""
    session = boto3.Session(aws_access_key_id=AKID, aws_secret_access_key=secret, region_name="us-west-2")
    control, archived = clients(endpoint, session=session, signing_name=signing_name)
    client = archived if operation == "get_images" else control
    client.meta.events.register("before-send", _stop_before_send)
    kwargs = GET_IMAGES if operation == "get_images" else {"StreamName": "cam"}
    with pytest.raises(_Captured) as captured:
        getattr(client, operation)(**kwargs)
    sent = captured.value.request
    return as_received(sent.method, sent.url, sent.headers, sent.body)


def plain_boto3_request(operation: str = "describe_stream") -> SignedRequest:
    """A plain ``boto3.client("kinesisvideo")`` request, signed for kinesisvideo."""
    client = boto3.client(
        "kinesisvideo",
        endpoint_url=LOCAL,
        region_name="ap-southeast-2",
        aws_access_key_id=AKID,
        aws_secret_access_key=SECRET,
        config=Config(retries={"max_attempts": 1}),
    )
    client.meta.events.register("before-send", _stop_before_send)
    with pytest.raises(_Captured) as captured:
        getattr(client, operation)(StreamName="cam")
    sent = captured.value.request
    return as_received(sent.method, sent.url, sent.headers, sent.body)


def signed_raw(method: str, url: str, body: bytes, headers: dict[str, str] | None = None) -> SignedRequest:
    """A raw request signed the way `stillframe put-media` signs (stillframe.client.sign_headers)."""
    signing = Signing("eu-central-1", "kinesisvideo", Credentials(AKID, SECRET))
    signed = sign_headers(signing, method, url, dict(headers or {}), body)
    return as_received(method, url, signed, body)


def signed_at(request: SignedRequest) -> datetime:
    value = next(v for n, v in request.headers if n.lower() == "x-amz-date")
    return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def refusal(request: SignedRequest, **kwargs: Any) -> str:
    with pytest.raises(NotAuthorizedError) as refused:
        VERIFIER.verify(request, **kwargs)
    assert SECRET not in refused.value.message
    return refused.value.message


def with_header(request: SignedRequest, name: str, value: str | None) -> SignedRequest:
    """``request`` with header ``name`` replaced (or removed when ``value`` is None)."""
    kept = [(n, v) for n, v in request.headers if n.lower() != name.lower()]
    return dataclasses.replace(request, headers=kept + ([(name, value)] if value is not None else []))


@pytest.mark.parametrize(
    ("endpoint", "signing_name", "operation"),
    [
        (LOCAL, None, "describe_stream"),
        (LOCAL, None, "get_images"),
        (LOCAL, "execute-api", "get_images"),
        (STAGE, None, "describe_stream"),  # execute-api host: signs for execute-api, path /prod/describeStream
        (STAGE, None, "get_images"),
    ],
)
def test_boto3_signatures_for_both_service_names_pass(endpoint: str, signing_name: str | None, operation: str) -> None:
    # Given a request signed by an unmodified boto3 client (through stillframe.client for execute-api)
    request = boto3_request(endpoint, operation, signing_name=signing_name)
    expected_service = "execute-api" if signing_name or "execute-api" in endpoint else "kinesisvideo"
    assert f"/{expected_service}/aws4_request" in dict(request.headers)["Authorization"]

    # When the server checks it / Then it passes
    VERIFIER.verify(request)


def test_plain_kinesisvideo_client_in_any_region_passes() -> None:
    VERIFIER.verify(plain_boto3_request())


def test_put_media_style_signature_with_query_and_spaced_header_passes() -> None:
    # Given a signed request with an unsorted, encoded query and a header value with runs of spaces
    url = f"{LOCAL}/putMedia?b=2&a=x%20y&a=1"
    request = signed_raw("POST", url, b"\x1a\x45\xdf\xa3 mkv bytes", {"X-Amzn-Stream-Name": "  cam   one "})

    # When the server checks it / Then it passes
    VERIFIER.verify(request)


@pytest.mark.parametrize(
    ("tamper", "what"),
    [
        (lambda r: dataclasses.replace(r, body=r.body.replace(b'"cam"', b'"cat"')), "body"),
        (lambda r: with_header(r, "Content-Type", "application/x-amz-json-1.1"), "signed header"),
        (lambda r: dataclasses.replace(r, target="/prod" + r.target), "path"),
        (lambda r: dataclasses.replace(r, method="PUT"), "method"),
    ],
)
def test_tampered_requests_fail_the_signature(tamper: Callable[[SignedRequest], SignedRequest], what: str) -> None:
    # Given a valid boto3 request / When one signed part of it changes on the way
    request = tamper(plain_boto3_request())

    # Then the signature no longer matches
    assert "signature we calculated does not match" in refusal(request), what


def test_tampered_query_fails_the_signature() -> None:
    request = signed_raw("GET", f"{LOCAL}/getImages?a=1", b"")
    assert "does not match" in refusal(dataclasses.replace(request, target="/getImages?a=2"))


def test_an_unsigned_header_may_change() -> None:
    # Given a valid request / When a header outside SignedHeaders changes (User-Agent) / Then it still passes
    VERIFIER.verify(with_header(plain_boto3_request(), "User-Agent", "something else"))


def test_wrong_secret_fails_the_signature() -> None:
    request = boto3_request(LOCAL, "get_images", secret="not-the-secret")
    assert "Check your AWS Secret Access Key" in refusal(request)


def test_unknown_access_key_is_named() -> None:
    # Given a verifier for another key pair / When a valid request for AKID arrives / Then the key is unknown
    with pytest.raises(NotAuthorizedError) as refused:
        SigV4Verifier.single("OTHERKEY", SECRET).verify(plain_boto3_request())
    assert "security token included in the request is invalid" in refused.value.message
    assert repr(AKID) in refused.value.message and SECRET not in refused.value.message


def test_stale_and_future_dates_are_refused() -> None:
    # Given a request signed now
    request = plain_boto3_request()
    at = signed_at(request)

    # When checked 16 minutes later, or 16 minutes earlier / Then it is refused as expired or not yet current
    assert refusal(request, now=at + timedelta(minutes=16)).startswith("Signature expired")
    assert refusal(request, now=at - timedelta(minutes=16)).startswith("Signature not yet current")
    # And within 15 minutes either way it passes
    VERIFIER.verify(request, now=at + timedelta(minutes=14))
    VERIFIER.verify(request, now=at - timedelta(minutes=14))


def test_missing_authorization_header() -> None:
    request = with_header(plain_boto3_request(), "Authorization", None)
    assert refusal(request).startswith("Missing Authentication Token")


@pytest.mark.parametrize(
    ("authorization", "expected"),
    [
        ("Basic dXNlcjpwYXNz", "must use AWS4-HMAC-SHA256"),
        ("AWS4-HMAC-SHA256 Credential=AKIDSTILLFRAME/20261126, SignedHeaders=host, Signature=ab", "malformed"),
        (
            "AWS4-HMAC-SHA256 Credential=AKIDSTILLFRAME/20261126/us-east-1/kinesisvideo/aws4_request, "
            "SignedHeaders=content-type;x-amz-date, Signature=ab",
            "SignedHeaders must include host",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIDSTILLFRAME/20261126/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=ab",
            "not 's3'",
        ),
    ],
)
def test_malformed_authorization_headers_say_what_is_wrong(authorization: str, expected: str) -> None:
    assert expected in refusal(with_header(plain_boto3_request(), "Authorization", authorization))


def test_missing_date_and_scope_date_mismatch() -> None:
    request = plain_boto3_request()
    assert "no X-Amz-Date header" in refusal(with_header(request, "X-Amz-Date", None))
    day_before = (signed_at(request) - timedelta(days=1)).strftime("%Y%m%dT%H%M%SZ")
    assert "does not match YYYYMMDD" in refusal(with_header(request, "X-Amz-Date", day_before))


def test_declared_payload_hash_must_be_the_body_hash() -> None:
    # Given a request whose signed X-Amz-Content-Sha256 is the hash of its body
    body = b"fragment bytes"
    digest = hashlib.sha256(body).hexdigest()
    request = signed_raw("POST", f"{LOCAL}/putMedia", body, {"X-Amz-Content-Sha256": digest})
    VERIFIER.verify(request)

    # When the body is swapped but the signed hash kept / Then it is refused for the hash, not let through
    assert "X-Amz-Content-Sha256 header does not match" in refusal(dataclasses.replace(request, body=b"other bytes"))


def test_unsigned_payload_is_accepted_when_signed_that_way() -> None:
    request = signed_raw("POST", f"{LOCAL}/putMedia", b"any", {"X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD"})
    VERIFIER.verify(request)


def test_the_secret_is_not_in_the_verifiers_repr() -> None:
    assert SECRET not in repr(VERIFIER) and AKID in repr(VERIFIER)
