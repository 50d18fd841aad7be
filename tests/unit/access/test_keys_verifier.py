"""The one verifier over a key store, as keys auth uses it, and what each key may do (policy)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from stillframe.access.keystore import KeyStore, new_key
from stillframe.access.policy import authorize, operation_for, streams_named, visible_streams
from stillframe.access.sigv4 import SignedRequest, SigV4Verifier, header_values
from stillframe.errors import NotAuthorizedError

T = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)
OPEN = new_key(description="open", now=T)
LOBBY = new_key(stream_prefixes=["lobby-"], read_only=True, now=T)
GONE = new_key(now=T)
STORE = KeyStore((OPEN, LOBBY, GONE)).revoked(GONE.access_key_id, at=T)
KEYS = SigV4Verifier(STORE, allow_unsigned_payload=False)
HOST = "abc123.execute-api.eu-west-1.amazonaws.com"


def signed(
    path: str = "/v1/describeStream",
    body: bytes = b'{"StreamName": "lobby-1"}',
    *,
    key: object = OPEN,
    service: str = "kinesisvideo",
    headers: dict[str, str] | None = None,
) -> SignedRequest:
    """A request signed by botocore's SigV4Auth, as the server receives it."""
    request = AWSRequest(method="POST", url=f"https://{HOST}{path}", data=body, headers=headers or {})
    credentials = Credentials(key.access_key_id, key.secret_access_key)  # type: ignore[attr-defined]
    SigV4Auth(credentials, service, "eu-west-1").add_auth(request)
    pairs = [("Host", HOST), *((name, str(value)) for name, value in request.headers.items())]
    return SignedRequest("POST", path, pairs, body)


def refused(request: SignedRequest, **kwargs: object) -> str:
    with pytest.raises(NotAuthorizedError) as caught:
        KEYS.verify(request, **kwargs)  # type: ignore[arg-type]
    for key in STORE.keys:
        assert key.secret_access_key not in caught.value.message
    return caught.value.message


def test_an_active_key_passes_and_is_returned() -> None:
    assert KEYS.verify(signed()) == OPEN
    assert KEYS.verify(signed(key=LOBBY)) == LOBBY
    assert KEYS.verify(signed(service="execute-api")) == OPEN  # decided: both service names pass


def test_refusals_say_why() -> None:
    stranger = new_key()
    assert "is not known to this server" in refused(signed(key=stranger))
    assert "was revoked at 2026-11-26T10:00:00Z" in refused(signed(key=GONE))
    assert "not 's3'" in refused(signed(service="s3"))
    wrong_secret = dataclasses.replace(OPEN, secret_access_key="x" * 40)
    assert "signature we calculated does not match" in refused(signed(key=wrong_secret))


def test_the_body_is_covered_by_the_signature() -> None:
    request = signed()
    assert "does not match" in refused(dataclasses.replace(request, body=b'{"StreamName": "garage"}'))


def test_a_declared_body_hash_must_match_and_unsigned_payload_is_refused() -> None:
    body = b'{"StreamName": "lobby-1"}'
    digest = hashlib.sha256(body).hexdigest()
    assert KEYS.verify(signed(body=body, headers={"X-Amz-Content-Sha256": digest})) == OPEN
    swapped = dataclasses.replace(signed(body=body, headers={"X-Amz-Content-Sha256": digest}), body=b"{}")
    assert "does not match the SHA-256" in refused(swapped)
    unsigned = signed(body=body, headers={"X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD"})
    assert "UNSIGNED-PAYLOAD is not accepted" in refused(unsigned)
    # The AWS_IAM stand-in of serve --access-key-id keeps accepting it, as API Gateway does
    assert SigV4Verifier(STORE).verify(unsigned) == OPEN


def test_the_fifteen_minute_window_refuses_replays() -> None:
    request = signed()
    at = datetime.strptime(header_values(request.headers)["x-amz-date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert KEYS.verify(request, now=at + timedelta(minutes=14, seconds=59)) == OPEN
    assert refused(request, now=at + timedelta(minutes=15, seconds=1)).startswith("Signature expired")
    assert refused(request, now=at - timedelta(minutes=15, seconds=1)).startswith("Signature not yet current")


def test_other_spellings_of_the_path_are_tried() -> None:
    # Given a request the client signed at LocalStack's path form, received with the stage path
    request = signed("/_aws/execute-api/abc123/v1/describeStream")
    as_received = dataclasses.replace(request, target="/v1/describeStream")
    assert "does not match" in refused(as_received)
    # When the verifier may also try the LocalStack form / Then it passes
    assert KEYS.verify(dataclasses.replace(as_received, also_signed_as=(request.target,))) == OPEN


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 Credential=,,,",
        "AWS4-HMAC-SHA256 Credential=a/b/c/d/e, Signature=",
        "\x00",
    ],
)
def test_malformed_authorization_is_a_refusal_not_a_crash(authorization: str) -> None:
    request = signed()
    pairs = [(n, v) for n, v in request.headers if n.lower() != "authorization"] + [("Authorization", authorization)]
    refused(dataclasses.replace(request, headers=pairs))


# --- policy: what a key may do -----------------------------------------------------------------------------


def test_operations_come_from_the_exact_route_path() -> None:
    assert operation_for("/getImages") == "GetImages" and operation_for("/putMedia") == "PutMedia"
    assert operation_for("/v1/createStream") is None and operation_for("/nothing") is None


def names(operation: str, body: object = None, headers: dict[str, list[str]] | None = None) -> list[str | None]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else None
    return streams_named(operation, headers or {}, raw)


def test_streams_are_read_from_names_arns_and_put_media_headers() -> None:
    arn = "arn:aws:kinesisvideo:us-east-1:000000000000:stream/garage/1796122736074"
    assert names("DescribeStream", {"StreamName": "lobby-1", "StreamARN": arn}) == ["lobby-1", "garage"]
    assert names("ListStreams", {}) == [] and names("ListStreams") == []
    assert names("GetImages", b"not json") == [None] and names("GetImages", [1]) == [None]
    # Nesting deep enough to exhaust the JSON parser's recursion is a body that names no clear stream, not a crash.
    assert names("GetImages", b"[" * 200_000 + b"]" * 200_000) == [None]
    assert names("GetImages", {"StreamName": 7}) == [None] and names("DeleteStream", {"StreamARN": "x"}) == [None]
    headers = {"x-amzn-stream-name": ["lobby-1"], "x-amzn-stream-arn": [arn]}
    assert names("PutMedia", b"\x1a\x45\xdf\xa3", headers) == ["lobby-1", "garage"]


def test_read_only_keys_may_only_read() -> None:
    for operation in ("DescribeStream", "ListStreams", "GetDataEndpoint", "GetImages", "ListFragments"):
        authorize(LOBBY, operation, ["lobby-1"])
    for operation in ("CreateStream", "DeleteStream", "PutMedia", None):
        with pytest.raises(NotAuthorizedError, match="is read-only"):
            authorize(LOBBY, operation, ["lobby-1"])


def test_prefix_keys_may_only_touch_their_streams() -> None:
    authorize(LOBBY, "GetImages", ["lobby-1"])
    authorize(LOBBY, "ListStreams", [])
    with pytest.raises(NotAuthorizedError, match=r"may not use stream 'garage'.*starting with 'lobby-'"):
        authorize(LOBBY, "GetImages", ["lobby-1", "garage"])
    with pytest.raises(NotAuthorizedError, match="does not say clearly which stream"):
        authorize(LOBBY, "GetImages", [None])
    authorize(OPEN, "PutMedia", [None, "garage"])  # an open key is limited by nothing


def test_list_streams_answers_show_only_the_keys_streams() -> None:
    body = json.dumps({"StreamInfoList": [{"StreamName": "lobby-1"}, {"StreamName": "garage"}], "NextToken": "t"})
    assert json.loads(visible_streams(LOBBY, body)) == {"StreamInfoList": [{"StreamName": "lobby-1"}], "NextToken": "t"}
    assert visible_streams(OPEN, body) == body
