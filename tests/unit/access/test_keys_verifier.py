"""The one verifier over a key store, as keys auth uses it, and what each key may do (policy)."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from stillframe.access.keystore import KeyStore, new_key
from stillframe.access.policy import admit_operation, admit_streams, visible
from stillframe.access.sigv4 import SignedRequest, SigV4Verifier, header_values
from stillframe.domain.operations import OPERATIONS, operation_at, operation_named
from stillframe.domain.put_media_headers import PutMediaHeaders
from stillframe.domain.stream_requests import DescribeStreamRequest, ListStreamsRequest
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

ARN = "arn:aws:kinesisvideo:us-east-1:000000000000:stream/garage/1796122736074"


def test_operations_come_from_the_exact_route_path() -> None:
    assert operation_at("/getImages").name == "GetImages" and operation_at("/putMedia").name == "PutMedia"
    assert operation_at("/v1/createStream") is None and operation_at("/nothing") is None


def test_read_only_keys_may_only_call_read_only_operations() -> None:
    # Given a read-only key
    # When it calls each operation of the table (or a path that is no operation)
    # Then exactly the read-only rows are admitted
    for spec in OPERATIONS:
        if spec.read_only:
            admit_operation(LOBBY, spec)
        else:
            with pytest.raises(NotAuthorizedError, match="is read-only"):
                admit_operation(LOBBY, spec)
    with pytest.raises(NotAuthorizedError, match="is read-only"):
        admit_operation(LOBBY, None)
    assert {"GetImages", "ListFragments", "ListStreams"} <= {s.name for s in OPERATIONS if s.read_only}
    assert not {"CreateStream", "DeleteStream", "PutMedia"} & {s.name for s in OPERATIONS if s.read_only}


def test_prefix_keys_may_only_touch_their_streams_as_the_validated_request_names_them() -> None:
    get_images = operation_named("GetImages")
    admit_streams(LOBBY, get_images, DescribeStreamRequest.model_validate({"StreamName": "lobby-1"}))
    with pytest.raises(NotAuthorizedError, match=r"may not use stream 'garage'.*starting with 'lobby-'"):
        admit_streams(LOBBY, get_images, DescribeStreamRequest.model_validate({"StreamARN": ARN}))
    headers = PutMediaHeaders.model_validate({"x-amzn-stream-arn": ARN})
    with pytest.raises(NotAuthorizedError, match="may not use stream 'garage'"):
        admit_streams(LOBBY, operation_named("PutMedia"), headers)
    admit_streams(OPEN, operation_named("PutMedia"), headers)  # an open key is limited by nothing
    admit_streams(LOBBY, operation_named("ListStreams"), ListStreamsRequest.model_validate({}))


def test_a_per_stream_operation_whose_request_names_no_stream_is_refused_to_a_prefix_key() -> None:
    # A request model that forgot to say which streams it acts on must not open every stream.
    with pytest.raises(NotAuthorizedError, match="does not say which stream"):
        admit_streams(LOBBY, operation_named("GetImages"), ListStreamsRequest.model_validate({}))


def test_listings_show_a_prefix_key_only_its_streams() -> None:
    only = visible(LOBBY)
    assert only is not None and only("lobby-1") and not only("garage")
    assert visible(OPEN) is None and visible(None) is None
