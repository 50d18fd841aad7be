"""stillframe.client: real boto3 clients, signed for execute-api behind API Gateway and kinesisvideo elsewhere."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import boto3
import pytest
from botocore import auth as botocore_auth

from stillframe.client import (
    ca_bundle,
    clients,
    execute_api_region,
    is_execute_api,
    is_loopback,
    sign_headers,
    signing_for,
)
from tests.support.offline import base_url, forget_host_aws_config, loopback_server, send_json


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Any

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        self.server.seen.append((self.path, self.headers.get("Authorization", ""), body))
        answer: dict[str, Any] = {"StreamInfoList": [], "Fragments": []}
        if self.path.endswith("/getDataEndpoint"):
            answer = {"DataEndpoint": self.server.base + "/data"}
        send_json(self, 200, json.dumps(answer).encode())

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[Any]:
    """A loopback server that records (path, Authorization, JSON body) of every request."""
    with loopback_server(_Recorder) as server:
        server.seen = []  # type: ignore[attr-defined]
        server.base = base_url(server)  # type: ignore[attr-defined]
        yield server


@pytest.fixture(autouse=True)
def no_aws_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """No credentials, profile or config from the machine running the tests."""
    forget_host_aws_config(monkeypatch)


def test_execute_api_signing_keeps_the_stage_path(recorder: Any) -> None:
    # Given a client for an API Gateway stage, forced to sign as execute-api (the server is on loopback)
    control, _ = clients(recorder.base + "/prod", region="eu-west-1", signing_name="execute-api")

    # When it calls ListStreams
    control.list_streams()

    # Then the request went under the stage path with an execute-api credential scope
    path, authorization, _ = recorder.seen[0]
    assert path == "/prod/listStreams"
    assert "Credential=test/" in authorization
    assert "/eu-west-1/execute-api/aws4_request" in authorization


def test_plain_endpoint_signs_as_kinesisvideo_with_dummy_credentials(recorder: Any) -> None:
    # Given a fresh machine (no AWS credentials) and a loopback endpoint
    control, archived = clients(recorder.base)

    # When both clients make a call
    control.list_streams()
    archived.list_fragments(StreamName="cam")

    # Then both are signed with the dummy key for kinesisvideo in the default region
    assert [path for path, _, _ in recorder.seen] == ["/listStreams", "/listFragments"]
    for _, authorization, _ in recorder.seen:
        assert "Credential=test/" in authorization
        assert "/us-east-1/kinesisvideo/aws4_request" in authorization


def test_archived_media_client_uses_the_data_endpoint(recorder: Any) -> None:
    # Given a stream name, so the archived-media client is built the KVS way
    _, archived = clients(recorder.base, stream_name="cam")

    # When it calls ListFragments
    archived.list_fragments(StreamName="cam")

    # Then GetDataEndpoint(GET_IMAGES) was asked first, and the call went to the endpoint it returned
    first_path, _, first_body = recorder.seen[0]
    assert first_path == "/getDataEndpoint"
    assert first_body == {"StreamName": "cam", "APIName": "GET_IMAGES"}
    assert recorder.seen[1][0] == "/data/listFragments"


def test_execute_api_url_gives_region_and_signing_name() -> None:
    # Given a real API Gateway URL and a session with credentials
    session = boto3.Session(aws_access_key_id="AKID", aws_secret_access_key="SECRET", region_name="us-west-2")

    # When the signing is resolved
    signing = signing_for("https://abc123.execute-api.ap-southeast-2.amazonaws.com/prod", session=session)

    # Then the URL's region wins over the session's and the service is execute-api
    assert (signing.region, signing.signing_name) == ("ap-southeast-2", "execute-api")
    assert signing.credentials is not None and signing.credentials.access_key == "AKID"


def test_remote_endpoint_without_credentials_gets_none() -> None:
    # Given no credentials and a non-loopback URL / When resolved / Then no dummy credentials are invented
    assert signing_for("https://kvs.example.com").credentials is None


@pytest.mark.parametrize(
    ("url", "loopback", "region"),
    [
        ("http://127.0.0.1:4566", True, None),
        ("http://localhost:4566", True, None),
        ("http://[::1]:4566", True, None),
        ("https://kvs.example.com", False, None),
        ("https://a1b2c3.execute-api.eu-central-1.amazonaws.com/prod", False, "eu-central-1"),
        ("https://a1b2c3-vpce-0abc.execute-api.us-east-2.vpce.amazonaws.com/v1", False, "us-east-2"),
    ],
)
def test_url_classification(url: str, loopback: bool, region: str | None) -> None:
    assert is_loopback(url) is loopback
    assert execute_api_region(url) == region


def test_sign_headers_covers_the_body(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a fixed signing clock
    import datetime

    moment = datetime.datetime(2024, 5, 1, 12, 0, 0)
    monkeypatch.setattr(botocore_auth, "get_current_datetime", lambda: moment)
    signing = signing_for("https://abc.execute-api.eu-west-1.amazonaws.com/prod", session=_session())
    url = "https://abc.execute-api.eu-west-1.amazonaws.com/prod/putMedia"

    # When the same request is signed with two bodies
    one = sign_headers(signing, "POST", url, {"x-amzn-stream-name": "cam"}, b"fragment-a")
    same = sign_headers(signing, "POST", url, {"x-amzn-stream-name": "cam"}, b"fragment-a")
    other = sign_headers(signing, "POST", url, {"x-amzn-stream-name": "cam"}, b"fragment-b")

    # Then the signature depends on the body, and the scope is execute-api
    assert one["Authorization"] == same["Authorization"] != other["Authorization"]
    assert "/20240501/eu-west-1/execute-api/aws4_request" in one["Authorization"]
    assert "x-amzn-stream-name" in one["Authorization"].split("SignedHeaders=")[1]


def _session() -> boto3.Session:
    return boto3.Session(aws_access_key_id="AKID", aws_secret_access_key="SECRET")


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://a1b2c3.execute-api.eu-central-1.amazonaws.com/prod", "execute-api"),
        ("https://a1b2c3.execute-api.localhost.localstack.cloud:4566/v1", "execute-api"),
        ("http://127.0.0.1:4566/_aws/execute-api/a1b2c3/v1", "kinesisvideo"),
        ("http://127.0.0.1:4577", "kinesisvideo"),
    ],
)
def test_signing_name_by_host_and_override(url: str, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given no override / Then API Gateway hosts (AWS's and LocalStack's) get execute-api, others kinesisvideo
    monkeypatch.delenv("STILLFRAME_SIGNING_NAME", raising=False)
    session = boto3.Session(aws_access_key_id="AKID", aws_secret_access_key="s", region_name="us-west-2")
    assert signing_for(url, session=session).signing_name == name
    # And STILLFRAME_SIGNING_NAME, then the argument, win
    monkeypatch.setenv("STILLFRAME_SIGNING_NAME", "kinesisvideo")
    assert signing_for(url, session=session).signing_name == "kinesisvideo"
    assert signing_for(url, session=session, signing_name="execute-api").signing_name == "execute-api"


def test_localstack_execute_api_hosts_are_loopback_without_a_region() -> None:
    url = "https://a1b2c3.execute-api.localhost.localstack.cloud:4566/v1"
    assert is_execute_api(url) and is_loopback(url) and execute_api_region(url) is None
    assert not is_execute_api("https://example.com/execute-api.localhost.localstack.cloud")


def test_ca_bundle_comes_from_the_argument_then_aws_ca_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_CA_BUNDLE", raising=False)
    assert ca_bundle() is None and ca_bundle("/x.pem") == "/x.pem"
    monkeypatch.setenv("AWS_CA_BUNDLE", "/env.pem")
    assert ca_bundle() == "/env.pem" and ca_bundle("/x.pem") == "/x.pem"
