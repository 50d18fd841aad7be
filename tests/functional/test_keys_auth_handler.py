"""Keys auth in the Lambda handler: real API Gateway proxy events of requests signed by unmodified boto3 clients.

The events are what API Gateway hands the function for a request a client signed at the stage URL
(``requestContext.path`` = ``/v1/...``) or at LocalStack's ``/_aws/execute-api/<api>/<stage>/...`` form.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from stillframe.access.backends import KeyFile
from stillframe.access.keystore import AccessKey, new_key
from tests.conftest import FakeContext

API_ID = "abc123defg"
STAGE_URL = f"https://{API_ID}.execute-api.eu-west-1.amazonaws.com/v1"
LOCALSTACK_URL = f"http://127.0.0.1:4566/_aws/execute-api/{API_ID}/v1"
T = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)


class _Captured(Exception):
    def __init__(self, request: Any) -> None:
        self.request = request


def _capture(request: Any, **_: Any) -> None:
    raise _Captured(request)


def proxy_event(method: str, url: str, headers: Any, body: bytes | None) -> dict[str, Any]:
    """The REST proxy event API Gateway makes of one HTTP request to the stage ``v1`` of API ``API_ID``."""
    parts = urlsplit(url)
    stage_path = parts.path.split(f"/_aws/execute-api/{API_ID}", 1)[-1]  # /v1/getImages either way
    route = stage_path.split("/v1", 1)[1]
    multi: dict[str, list[str]] = {"Host": [parts.netloc], "X-Forwarded-Proto": [parts.scheme]}
    for name, value in headers.items():
        multi.setdefault(name, []).append(value.decode() if isinstance(value, bytes) else str(value))
    binary = multi.get("Content-Type", [""])[0] == "application/octet-stream"
    text = None if body is None else base64.b64encode(body).decode() if binary else body.decode()
    return {
        "resource": "/{proxy+}",
        "path": route,
        "httpMethod": method,
        "headers": {name: values[-1] for name, values in multi.items()},
        "multiValueHeaders": multi,
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": route.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "path": stage_path,
            "stage": "v1",
            "apiId": API_ID,
            "httpMethod": method,
            "requestId": "req-1",
            "accountId": "123456789012",
            "resourcePath": "/{proxy+}",
            "identity": {"sourceIp": "203.0.113.7"},
            "domainName": parts.hostname,
        },
        "body": text,
        "isBase64Encoded": binary,
    }


def boto3_event(key: AccessKey, operation: str, base_url: str = STAGE_URL, **kwargs: Any) -> dict[str, Any]:
    """The proxy event of one call of an unmodified boto3 client (signed for kinesisvideo) at ``base_url``."""
    archived = ("get_images", "list_fragments", "get_hls_streaming_session_url", "get_dash_streaming_session_url")
    service = "kinesis-video-archived-media" if operation in archived else "kinesisvideo"
    client = boto3.client(
        service,
        endpoint_url=base_url,
        region_name="eu-west-1",
        aws_access_key_id=key.access_key_id,
        aws_secret_access_key=key.secret_access_key,
        config=Config(retries={"max_attempts": 1}),
    )
    client.meta.events.register("before-send", _capture)
    with pytest.raises(_Captured) as captured:
        getattr(client, operation)(**kwargs)
    sent = captured.value.request
    assert "/kinesisvideo/aws4_request" in sent.headers["Authorization"].decode()
    return proxy_event(sent.method, sent.url, sent.headers, sent.body)


def put_media_event(key: AccessKey, stream: str, body: bytes, base_url: str = STAGE_URL) -> dict[str, Any]:
    """A PutMedia request signed with botocore's SigV4Auth for kinesisvideo, as put-media sends it."""
    url = f"{base_url}/putMedia"
    headers = {
        "x-amzn-stream-name": stream,
        "x-amzn-fragment-timecode-type": "RELATIVE",
        "x-amzn-producer-start-timestamp": "1795600800.000",
        "Content-Type": "application/octet-stream",
    }
    request = AWSRequest(method="POST", url=url, data=body, headers=headers)
    SigV4Auth(Credentials(key.access_key_id, key.secret_access_key), "kinesisvideo", "eu-west-1").add_auth(request)
    return proxy_event("POST", url, request.headers, body)


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, AccessKey]:
    made = {
        "open": new_key(description="open"),
        "viewer": new_key(stream_prefixes=["lobby-"], read_only=True),
        "writer": new_key(stream_prefixes=["lobby-"]),
        "gone": new_key(),
    }
    store = KeyFile(tmp_path / "keys.json")
    for key in made.values():
        store.update(lambda s, k=key: s.with_key(k))
    store.update(lambda s: s.revoked(made["gone"].access_key_id, at=T))
    return made


def keys_settings(tmp_path: Path, **extra: Any) -> Any:
    """Settings for "keys" auth over ``tmp_path``'s store and key file (``keys.json``)."""
    from stillframe.settings import Settings

    return Settings(
        store="local",
        data_dir=str(tmp_path / "data"),
        token_secret="test-secret",
        auth="keys",
        keys_file=str(tmp_path / "keys.json"),
        **extra,
    )


@pytest.fixture
def handle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: dict[str, AccessKey]
) -> Iterator[Callable[[dict[str, Any]], dict[str, Any]]]:
    """The real lambda_handler with auth "keys" over a key file; returns status and decoded body."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    from stillframe.handlers.api import lambda_handler
    from stillframe.wiring import build

    svc = build(keys_settings(tmp_path))

    def call(event: dict[str, Any]) -> dict[str, Any]:
        response = lambda_handler(event, FakeContext(), svc=svc)
        headers = dict(response.get("headers") or {})
        headers.update({name: values[-1] for name, values in (response.get("multiValueHeaders") or {}).items()})
        text = response["body"]
        if response.get("isBase64Encoded"):
            text = base64.b64decode(text).decode()
        return {"status": response["statusCode"], "headers": headers, "body": json.loads(text) if text else None}

    yield call


def create(handle: Callable[..., dict[str, Any]], key: AccessKey, name: str) -> dict[str, Any]:
    return handle(boto3_event(key, "create_stream", StreamName=name, DataRetentionInHours=1))


@pytest.mark.parametrize("base_url", [STAGE_URL, LOCALSTACK_URL], ids=["stage-path", "localstack-path"])
def test_signed_calls_are_served_at_both_path_forms(handle: Callable[..., Any], keys: Any, base_url: str) -> None:
    # Given a key and requests signed at the stage URL or at LocalStack's path form
    created = handle(boto3_event(keys["open"], "create_stream", base_url, StreamName="lobby-1", DataRetentionInHours=1))
    assert created["status"] == 200, created

    # When GetImages is called / Then it is served (NO_MEDIA: the stream is empty)
    images = handle(
        boto3_event(
            keys["viewer"],
            "get_images",
            base_url,
            StreamName="lobby-1",
            ImageSelectorType="PRODUCER_TIMESTAMP",
            StartTimestamp=T,
            EndTimestamp=T + timedelta(seconds=1),
            SamplingInterval=500,
            Format="JPEG",
        )
    )
    assert images["status"] == 200, images
    assert [image["Error"] for image in images["body"]["Images"]] == ["NO_MEDIA"] * 3


def refusal(response: dict[str, Any]) -> str:
    assert response["status"] == 401, response
    assert response["headers"]["x-amzn-ErrorType"] == "NotAuthorizedException"
    assert response["body"]["__type"] == "NotAuthorizedException"
    return str(response["body"]["message"])


def test_each_refusal_is_a_401_not_authorized_saying_why(handle: Callable[..., Any], keys: Any) -> None:
    assert create(handle, keys["open"], "garage")["status"] == 200
    assert create(handle, keys["open"], "lobby-1")["status"] == 200
    stranger = new_key()
    assert "is not known" in refusal(handle(boto3_event(stranger, "list_streams")))
    assert "was revoked" in refusal(handle(boto3_event(keys["gone"], "list_streams")))
    assert "is read-only" in refusal(create(handle, keys["viewer"], "lobby-2"))
    viewer_garage = boto3_event(keys["viewer"], "describe_stream", StreamName="garage")
    assert "may not use stream 'garage'" in refusal(handle(viewer_garage))
    assert "Missing Authentication Token" in refusal(handle({**viewer_garage, "multiValueHeaders": {}, "headers": {}}))
    tampered = boto3_event(keys["viewer"], "describe_stream", StreamName="lobby-1")
    tampered["body"] = tampered["body"].replace("lobby-1", "garage")
    assert "signature we calculated does not match" in refusal(handle(tampered))
    # The path is bound too: a signature for describeStream does not open deleteStream
    moved = {**boto3_event(keys["open"], "describe_stream", StreamName="garage"), "path": "/deleteStream"}
    assert "does not match" in refusal(handle(moved))


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_only_gets_of_playback_paths_skip_the_signature_check(handle: Callable[..., Any], method: str) -> None:
    # Given an unsigned request to a playback path with another method than a player's GET
    event = proxy_event(method, f"{STAGE_URL}/hls/v1/getHLSMasterPlaylist.m3u8", {}, b"{}")
    # Then it is refused as any unsigned call is, before anything is resolved
    assert "Missing Authentication Token" in refusal(handle(event))
    # while the GET reaches the operation, which asks for its SessionToken
    get = handle(proxy_event("GET", f"{STAGE_URL}/hls/v1/getHLSMasterPlaylist.m3u8", {}, None))
    assert get["status"] == 400 and "SessionToken is required" in get["body"]["message"]


def test_prefix_keys_see_only_their_streams_in_list_streams(handle: Callable[..., Any], keys: Any) -> None:
    for name in ("lobby-1", "garage", "lobby-2"):
        assert create(handle, keys["open"], name)["status"] == 200
    seen = handle(boto3_event(keys["viewer"], "list_streams"))
    assert [info["StreamName"] for info in seen["body"]["StreamInfoList"]] == ["lobby-1", "lobby-2"]
    everything = handle(boto3_event(keys["open"], "list_streams"))
    assert len(everything["body"]["StreamInfoList"]) == 3


def test_put_media_binary_body_is_verified_and_scoped(handle: Callable[..., Any], keys: Any) -> None:
    assert create(handle, keys["open"], "lobby-1")["status"] == 200
    assert create(handle, keys["open"], "garage")["status"] == 200
    body = b"\x1a\x45\xdf\xa3 not really a video"
    # A writer limited to lobby-* reaches the handler for its stream (which refuses the junk media, not the key)
    answered = handle(put_media_event(keys["writer"], "lobby-1", body))
    assert answered["status"] != 401, answered
    assert "may not use stream 'garage'" in refusal(handle(put_media_event(keys["writer"], "garage", body)))
    assert "is read-only" in refusal(handle(put_media_event(keys["viewer"], "lobby-1", body)))
    swapped = put_media_event(keys["writer"], "lobby-1", body)
    swapped["body"] = base64.b64encode(b"other bytes").decode()
    assert "does not match" in refusal(handle(swapped))


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer x", "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=, Signature=z", "é"],
)
def test_malformed_authorization_never_causes_a_5xx(handle: Callable[..., Any], keys: Any, authorization: str) -> None:
    event = boto3_event(keys["open"], "list_streams")
    event["multiValueHeaders"]["Authorization"] = [authorization]
    refusal(handle(event))


def test_junk_base64_body_is_a_refusal(handle: Callable[..., Any], keys: Any) -> None:
    event = put_media_event(keys["writer"], "lobby-1", b"x")
    event["body"] = "***"
    assert "not valid base64" in refusal(handle(event))
