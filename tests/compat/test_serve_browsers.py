"""What web pages can do with a real `stillframe serve`: cross-site requests, DNS rebinding, CORS, the viewer's headers.

Without authentication the server refuses what a foreign page's browser would send (an Origin it does not serve, a
Host that is not its own, a JSON operation's body posted as a form or text), and answers loopback pages, its own
pages and ``--allow-origin`` ones with CORS. With signatures required every origin is answered as KVS does, the
preflight before the signature check. Real HTTP to real server processes throughout.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.support.raw_http import address, assert_aws_shaped
from tests.support.serve import running_serve

FOREIGN = "https://evil.example"
APP = "https://app.example"
AKID = "AKIDBROWSERTEST"
SECRET = "browser-test-secret"


class Answer:
    """One HTTP answer: status, headers (case-insensitive), the parsed JSON body (None when empty)."""

    def __init__(self, status: int, headers: Any, payload: bytes) -> None:
        self.status, self.headers = status, headers
        self.body = assert_aws_shaped(status, headers, payload) if status >= 400 else None
        self.json = (
            json.loads(payload) if payload and headers.get("Content-Type", "").startswith("application/json") else None
        )

    @property
    def error(self) -> tuple[int, str]:
        assert self.body is not None, self.status
        return self.status, self.body["__type"]


def send(url: str, method: str, path: str, body: bytes | None = None, **headers: str) -> Answer:
    """One request with exactly these headers (``Content_Type`` -> ``Content-Type``) beside http.client's own."""
    conn = http.client.HTTPConnection(*address(url), timeout=30)
    named = {name.replace("_", "-"): value for name, value in headers.items()}
    conn.putrequest(method, path, skip_host="Host" in named, skip_accept_encoding=True)
    for name, value in named.items():
        conn.putheader(name, value)
    if body is not None:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    response = conn.getresponse()
    answer = Answer(response.status, response.headers, response.read())
    conn.close()
    return answer


def post(url: str, operation: str, payload: dict[str, Any], **headers: str) -> Answer:
    return send(url, "POST", f"/{operation}", json.dumps(payload).encode(), **headers)


def stream_names(url: str) -> list[str]:
    listed = post(url, "listStreams", {}, Content_Type="application/json")
    assert listed.status == 200 and listed.json is not None
    return [info["StreamName"] for info in listed.json["StreamInfoList"]]


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_serve("--data-dir", str(tmp_path_factory.mktemp("serve-browsers"))) as (base, _):
        yield base


@pytest.fixture(scope="module")
def allowing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    data = str(tmp_path_factory.mktemp("serve-allowing"))
    with running_serve("--data-dir", data, "--allow-origin", APP, "--allow-host", "box.lan") as started:
        yield started


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = str(tmp_path_factory.mktemp("serve-signed"))
    env = {"STILLFRAME_SERVE_SECRET_ACCESS_KEY": SECRET}
    with running_serve("--data-dir", data, "--access-key-id", AKID, env=env) as (base, _):
        yield base


# ---- without authentication: cross-site requests ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "payload"),
    [
        ("createStream", {"StreamName": "csrf-made", "DataRetentionInHours": 1}),
        (
            "updateImageGenerationConfiguration",
            {
                "StreamName": "csrf-target",
                "ImageGenerationConfiguration": {
                    "Status": "ENABLED",
                    "ImageSelectorType": "SERVER_TIMESTAMP",
                    "DestinationConfig": {"Uri": "s3://attacker", "DestinationRegion": "us-east-1"},
                    "SamplingInterval": 3000,
                    "Format": "JPEG",
                },
            },
        ),
    ],
)
@pytest.mark.parametrize("content_type", ["text/plain;charset=UTF-8", "application/x-www-form-urlencoded"])
def test_a_cross_site_simple_post_is_refused_and_changes_nothing(
    url: str, operation: str, payload: dict[str, Any], content_type: str
) -> None:
    # Given a stream a foreign page would like to reconfigure
    post(url, "createStream", {"StreamName": "csrf-target", "DataRetentionInHours": 1}, Content_Type="application/json")
    # When a page of another site posts the JSON as a form or text, which a browser sends without asking first
    answer = post(url, operation, payload, Origin=FOREIGN, Content_Type=content_type)
    # Then it is refused in the AWS shape, naming the origin and how to allow it, with no CORS to read it by
    assert answer.error == (403, "NotAuthorizedException")
    assert FOREIGN in answer.body["message"] and f"--allow-origin {FOREIGN}" in answer.body["message"]  # type: ignore[index]
    assert answer.headers.get("Access-Control-Allow-Origin") is None
    # And nothing was made or changed
    assert "csrf-made" not in stream_names(url)
    described = post(
        url, "describeImageGenerationConfiguration", {"StreamName": "csrf-target"}, Content_Type="application/json"
    )
    assert described.status == 200 and described.json.get("ImageGenerationConfiguration") is None  # type: ignore[union-attr]


def test_a_foreign_page_cannot_read_either(url: str) -> None:
    # A JSON request (preflighted by a browser) and the preflight itself are refused for a foreign origin
    listed = post(url, "listStreams", {}, Origin=FOREIGN, Content_Type="application/json")
    preflight = send(url, "OPTIONS", "/listStreams", Origin=FOREIGN, Access_Control_Request_Method="POST")
    assert listed.error == preflight.error == (403, "NotAuthorizedException")
    assert preflight.headers.get("Access-Control-Allow-Origin") is None


@pytest.mark.parametrize("origin", ["null", "http://localhost.evil.example", "file://"])
def test_origins_that_are_no_loopback_page_are_refused(url: str, origin: str) -> None:
    assert post(url, "listStreams", {}, Origin=origin, Content_Type="application/json").error == (
        403,
        "NotAuthorizedException",
    )


@pytest.mark.parametrize(
    "origin", ["http://localhost:3000", "http://127.0.0.1:8080", "https://[::1]:5173", "http://localhost"]
)
def test_loopback_pages_are_served_with_cors(url: str, origin: str) -> None:
    # Given the user's own local app, on any port, calling the server from the browser
    name = f"loopback-{abs(hash(origin))}"
    made = post(
        url,
        "createStream",
        {"StreamName": name, "DataRetentionInHours": 1},
        Origin=origin,
        Content_Type="application/json",
    )
    # Then the call is carried out and the answer is readable by that page only
    assert made.status == 200, made.body
    assert (made.headers["Access-Control-Allow-Origin"], made.headers["Vary"]) == (origin, "Origin")
    assert "x-amzn-ErrorType" in made.headers["Access-Control-Expose-Headers"]
    assert name in stream_names(url)
    preflight = send(
        url,
        "OPTIONS",
        "/createStream",
        Origin=origin,
        Access_Control_Request_Method="POST",
        Access_Control_Request_Headers="content-type",
    )
    assert preflight.status == 200 and preflight.headers["Access-Control-Allow-Origin"] == origin
    assert preflight.headers["Access-Control-Allow-Methods"] == "POST"


def test_the_servers_own_pages_are_served(url: str) -> None:
    # The viewer's fetches carry the server's own origin (Chrome sends Origin on every POST)
    host = url.split("://", 1)[1]
    answer = post(url, "listStreams", {}, Origin=url, Host=host, Content_Type="application/json")
    assert answer.status == 200 and answer.headers["Access-Control-Allow-Origin"] == url


def test_a_flag_allowed_origin_and_host_are_served(allowing: tuple[str, list[str]]) -> None:
    base, banner = allowing
    assert any(line.startswith("browsers: ") and APP in line and "box.lan" in line for line in banner), banner
    made = post(
        base,
        "createStream",
        {"StreamName": "from-app", "DataRetentionInHours": 1},
        Origin=APP,
        Content_Type="application/json",
    )
    assert made.status == 200 and made.headers["Access-Control-Allow-Origin"] == APP
    assert post(base, "listStreams", {}, Origin=FOREIGN, Content_Type="application/json").error == (
        403,
        "NotAuthorizedException",
    )
    # --allow-host: a LAN name, with any port
    port = address(base)[1]
    assert post(base, "listStreams", {}, Host=f"box.lan:{port}", Content_Type="application/json").status == 200
    assert post(base, "listStreams", {}, Host=f"other.lan:{port}", Content_Type="application/json").status == 403


# ---- without authentication: DNS rebinding -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/listStreams"), ("POST", "/getImages"), ("GET", "/"), ("GET", "/health")]
)
def test_a_foreign_host_is_refused(url: str, method: str, path: str) -> None:
    # Given a page of attacker.example whose name now resolves to this machine: its requests come with its Host
    port = address(url)[1]
    body = b"{}" if method == "POST" else None
    answer = send(url, method, path, body, Host=f"attacker.example:{port}", Content_Type="application/json")
    # Then nothing is answered but the refusal, naming the host and the flag that allows one
    assert answer.error == (403, "NotAuthorizedException")
    assert "attacker.example" in answer.body["message"] and "--allow-host" in answer.body["message"]  # type: ignore[index]


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "localhost.", "LOCALHOST", "viewer.localhost", "[::1]"])
def test_loopback_names_and_addresses_are_answered(url: str, host: str) -> None:
    port = address(url)[1]
    assert post(url, "listStreams", {}, Host=f"{host}:{port}", Content_Type="application/json").status == 200


# ---- without authentication: only JSON is read as JSON -------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "application/x-amz-json-1.1", None]
)
def test_json_content_types_and_none_are_read(url: str, content_type: str | None) -> None:
    headers = {} if content_type is None else {"Content_Type": content_type}
    assert post(url, "listStreams", {}, **headers).status == 200


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/octet-stream"],
)
def test_other_content_types_are_refused_on_json_operations(url: str, content_type: str) -> None:
    payload = {"StreamName": "typed", "DataRetentionInHours": 1}
    answer = post(url, "createStream", payload, Content_Type=content_type)
    assert answer.error == (415, "InvalidArgumentException")
    assert content_type in answer.body["message"] and "application/json" in answer.body["message"]  # type: ignore[index]
    assert "typed" not in stream_names(url)


def test_put_media_bodies_are_media_whatever_their_type(url: str) -> None:
    post(url, "createStream", {"StreamName": "typed-media", "DataRetentionInHours": 1}, Content_Type="application/json")
    answer = send(
        url,
        "POST",
        "/putMedia",
        b"not media",
        Content_Type="application/octet-stream",
        x_amzn_stream_name="typed-media",
        x_amzn_fragment_timecode_type="RELATIVE",
        x_amzn_producer_start_timestamp="1795600800",
    )
    assert answer.status != 415 and answer.error[1] == "InvalidArgumentException"  # the media is refused, not its type


AWS_CLI = Path(sys.executable).with_name("aws")
JS_CALLS = Path(__file__).resolve().parents[1] / "e2e" / "js" / "kvs_calls.mjs"


@pytest.mark.skipif(not AWS_CLI.exists(), reason="the AWS CLI is not installed in the venv (dev extra)")
def test_the_aws_cli_passes_every_check(url: str) -> None:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_CONFIG_FILE": os.devnull}
    common = ["--endpoint-url", url, "--region", "us-east-1", "--output", "json"]

    def aws(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(AWS_CLI), *args, *common], capture_output=True, text=True, env=env, timeout=60)

    made = aws("kinesisvideo", "create-stream", "--stream-name", "by-cli", "--data-retention-in-hours", "1")
    assert made.returncode == 0, made.stderr
    assert "by-cli" in [
        info["StreamName"] for info in json.loads(aws("kinesisvideo", "list-streams").stdout)["StreamInfoList"]
    ]


@pytest.mark.skipif(not (JS_CALLS.parent / "node_modules").is_dir(), reason="tests/e2e/js/node_modules is missing")
def test_the_js_sdk_v3_passes_every_check(url: str) -> None:
    post(url, "createStream", {"StreamName": "by-js", "DataRetentionInHours": 1}, Content_Type="application/json")
    env = {
        **os.environ,
        "ENDPOINT": url,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }
    described = subprocess.run(
        ["node", str(JS_CALLS), "describe", "by-js"], capture_output=True, text=True, env=env, timeout=60
    )
    assert described.returncode == 0, described.stdout + described.stderr
    assert json.loads(described.stdout)["StreamInfo"]["StreamName"] == "by-js"


# ---- with authentication: CORS as KVS answers it -------------------------------------------------------------------


def test_preflight_on_a_signed_server_is_answered_as_kvs_does(signed: str) -> None:
    asked = "authorization,content-type,x-amz-date,x-amz-user-agent,x-amz-content-sha256,amz-sdk-invocation-id"
    answer = send(
        signed,
        "OPTIONS",
        "/getImages",
        Origin=APP,
        Access_Control_Request_Method="POST",
        Access_Control_Request_Headers=asked,
    )
    assert answer.status == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert answer.headers["Access-Control-Allow-Methods"] == "POST"
    assert answer.headers["Access-Control-Allow-Headers"] == asked
    assert int(answer.headers["Access-Control-Max-Age"]) > 0
    exposed = answer.headers["Access-Control-Expose-Headers"].split(",")
    assert {"x-amzn-RequestId", "x-amzn-ErrorType"} <= set(exposed)


def test_a_signed_server_answers_every_origin_and_lets_it_read_refusals(signed: str) -> None:
    # An unsigned call from any page is refused, readably (the SDK names the exception from x-amzn-ErrorType)
    refused = post(signed, "listStreams", {}, Origin=FOREIGN, Content_Type="text/plain")
    assert refused.error == (403, "NotAuthorizedException")
    assert refused.headers["Access-Control-Allow-Origin"] == "*"
    # And a signed one from a browser app is answered with CORS, its errors too
    seen: dict[str, str] = {}
    kvs = boto3.client(
        "kinesisvideo",
        endpoint_url=signed,
        region_name="eu-west-1",
        aws_access_key_id=AKID,
        aws_secret_access_key=SECRET,
        config=Config(retries={"max_attempts": 1}),
    )
    kvs.meta.events.register("before-sign.*.*", lambda request, **_: request.headers.__setitem__("Origin", APP))
    kvs.meta.events.register("after-call.*.*", lambda http_response, **_: seen.update(http_response.headers))
    kvs.create_stream(StreamName="from-browser", DataRetentionInHours=1)
    assert seen["Access-Control-Allow-Origin"] == "*"
    with pytest.raises(ClientError) as raised:
        kvs.describe_stream(StreamName="absent")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert seen["Access-Control-Allow-Origin"] == "*"


def test_allow_flags_are_refused_where_they_cannot_apply(tmp_path: Path) -> None:
    def serve(*flags: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "stillframe.cli.main", "serve", "--port", "0", "--data-dir", str(tmp_path)]
        env = {**os.environ, "STILLFRAME_SERVE_SECRET_ACCESS_KEY": SECRET} if "--access-key-id" in flags else None
        return subprocess.run([*command, *flags], capture_output=True, text=True, timeout=60, env=env)

    wildcard = serve("--allow-origin", "*")
    assert wildcard.returncode == 2 and "--keys-file" in wildcard.stderr
    not_origin = serve("--allow-origin", "app.example")
    assert not_origin.returncode == 2 and "scheme://host[:port]" in not_origin.stderr
    with_auth = serve("--access-key-id", AKID, "--allow-origin", APP)
    assert with_auth.returncode == 2 and "only apply without authentication" in with_auth.stderr


# ---- the viewer's own headers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/viewer/app.js", "/viewer/playback.js", "/viewer/style.css", "/viewer/vendor/hls.min.js"]
)
def test_the_viewer_cannot_be_framed_and_runs_only_its_own_scripts(url: str, path: str) -> None:
    answer = send(url, "GET", path)
    assert answer.status == 200
    policy = {
        part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in answer.headers["Content-Security-Policy"].split("; ")
    }
    assert policy["frame-ancestors"] == "'none'" and answer.headers["X-Frame-Options"] == "DENY"
    assert policy["script-src"] == "'self'" and policy["default-src"] == "'none'"
    # Video through Media Source Extensions (a blob: URL) from this server only; hls.js runs without a worker
    assert policy["media-src"] == "'self' blob:" and "worker-src" not in policy
