"""Fixtures for the deployed path: the stack ``scripts/e2e.sh`` deployed on LocalStack, reached over HTTPS.

Every value comes from ``.e2e/outputs.json`` (``STILLFRAME_E2E_OUTPUTS``), the same file a person gets from
``make e2e-up``; nothing here knows LocalStack's internals beyond its S3/SQS endpoint for the drop zone. Certificate
verification stays on: clients get the generated CA as ``AWS_CA_BUNDLE`` / ``NODE_EXTRA_CA_CERTS``.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.support.synth import make_clip, read_frame_number

REPO = Path(__file__).resolve().parents[2]
CLIP_START = 1_700_000_000.0  # producer time of frame 0 of every e2e clip (epoch seconds)
CLIP_FPS = 25
CLIP_SECONDS = 6


@dataclass(frozen=True)
class Deployment:
    """One deployed stack as a client sees it."""

    values: dict[str, Any]

    @property
    def api_url(self) -> str:
        return str(self.values["ApiUrl"])

    @property
    def region(self) -> str:
        return str(self.values["Region"])

    @property
    def ca_bundle(self) -> str:
        return str(self.values["CaBundle"])

    def client_env(self, **extra: str) -> dict[str, str]:
        """The environment a CLI or SDK process needs: CA bundle, region and (keys mode) the access key."""
        env = {
            **os.environ,
            "AWS_CA_BUNDLE": self.ca_bundle,
            "NODE_EXTRA_CA_CERTS": self.ca_bundle,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }
        for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
            env.pop(name, None)  # the endpoint is given per call; a global one would hide a wrong URL
        if "AccessKeyId" in self.values:
            env["AWS_ACCESS_KEY_ID"] = str(self.values["AccessKeyId"])
            env["AWS_SECRET_ACCESS_KEY"] = str(self.values["SecretAccessKey"])
        return {**env, **extra}


def _load(variable: str) -> Deployment:
    path = os.environ.get(variable)
    if not path or not Path(path).is_file():
        reason = f"{variable} does not name an outputs file; run `make e2e` (or `make e2e-up`)"
        if os.environ.get("STILLFRAME_REQUIRE_E2E") == "1":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return Deployment(json.loads(Path(path).read_text()))


@pytest.fixture(scope="session")
def keys_stack() -> Deployment:
    """The keys-mode deployment (functions verify kinesisvideo SigV4 against Stillframe access keys)."""
    return _load("STILLFRAME_E2E_OUTPUTS")


@pytest.fixture(scope="session")
def iam_stack() -> Deployment:
    """The IAM-mode deployment (API Gateway AWS_IAM; clients sign for execute-api)."""
    return _load("STILLFRAME_E2E_IAM_OUTPUTS")


def sdk_client(deployment: Deployment, service: str, *, access_key: tuple[str, str] | None = None) -> Any:
    """An unmodified boto3 client for ``service`` at the deployed API, verifying TLS with the stack's CA."""
    key_id, secret = access_key or (deployment.values["AccessKeyId"], deployment.values["SecretAccessKey"])
    return boto3.session.Session().client(
        service,
        endpoint_url=deployment.api_url,
        region_name=deployment.region,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        verify=deployment.ca_bundle,
        config=Config(retries={"mode": "standard", "max_attempts": 3}, read_timeout=60),
    )


def data_client(
    deployment: Deployment,
    service: str,
    stream: str,
    api_name: str,
    *,
    access_key: tuple[str, str] | None = None,
) -> Any:
    """An unmodified boto3 ``service`` client on the DataEndpoint GetDataEndpoint answers for ``api_name``."""
    endpoint = sdk_client(deployment, "kinesisvideo", access_key=access_key).get_data_endpoint(
        StreamName=stream, APIName=api_name
    )
    key_id, secret = access_key or (deployment.values["AccessKeyId"], deployment.values["SecretAccessKey"])
    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint["DataEndpoint"],
        region_name=deployment.region,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        verify=deployment.ca_bundle,
        config=Config(retries={"mode": "standard", "max_attempts": 3}, read_timeout=120),
    )


def at(seconds: float) -> datetime:
    """The producer time of clip offset ``seconds``."""
    return datetime.fromtimestamp(CLIP_START + seconds, UTC)


def aws_cli(deployment: Deployment, *args: str) -> dict[str, Any]:
    """Run the unmodified AWS CLI (``STILLFRAME_E2E_AWS_CLI``) against the deployed API; its JSON answer."""
    aws = os.environ.get("STILLFRAME_E2E_AWS_CLI", "aws")
    command = [aws, *args, "--endpoint-url", deployment.api_url, "--output", "json"]
    result = subprocess.run(command, capture_output=True, text=True, env=deployment.client_env(), timeout=120)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stderr}"
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def keys_cli(deployment: Deployment, *args: str) -> str:
    """Run `stillframe keys ARGS` against the stack's key store (on LocalStack's Secrets Manager); its stdout."""
    command = [sys.executable, "-m", "stillframe.cli.main", "keys", *args]
    command += ["--stack", deployment.values["StackName"], "--region", deployment.region]
    env = deployment.client_env(AWS_ENDPOINT_URL=deployment.values["LocalStackEndpoint"])
    env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = "test", "test"
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def new_key(deployment: Deployment, *options: str) -> tuple[str, str]:
    """A new key made with `stillframe keys create OPTIONS`: (access key id, secret)."""
    created = json.loads(keys_cli(deployment, "create", "--json", *options))
    return created["AccessKeyId"], created["SecretAccessKey"]


def refused(call) -> str:
    """The message of the NotAuthorizedException that ``call`` raises."""
    with pytest.raises(Exception) as caught:  # the class lives on each client: checked by name
        call()
    error = caught.value
    assert type(error).__name__ == "NotAuthorizedException", repr(error)
    return str(error)


def localstack_client(deployment: Deployment, service: str) -> Any:
    """A client for LocalStack's own S3/SQS/CloudFormation (the drop zone's other side), over HTTPS too."""
    return boto3.session.Session().client(
        service,
        endpoint_url=deployment.values["LocalStackEndpoint"],
        region_name=deployment.region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        verify=deployment.ca_bundle,
    )


@pytest.fixture(scope="session")
def clip_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6 s 320x240 H.264 clip, 25 fps, a key frame every second; each frame carries its number."""
    path = tmp_path_factory.mktemp("clips") / "clip.mkv"
    path.write_bytes(make_clip(seconds=CLIP_SECONDS, fps=CLIP_FPS, gop=CLIP_FPS))
    return path


def unique_stream(prefix: str = "e2e") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def put_media(deployment: Deployment, stream: str, clip: Path, *extra: str, env: dict[str, str] | None = None) -> str:
    """`stillframe put-media --create-stream` over HTTPS into the deployed API; returns its stderr summary."""
    command = [sys.executable, "-m", "stillframe.cli.main", "put-media", "--endpoint-url", deployment.api_url]
    command += ["--stream", stream, "--create-stream", "--producer-start-time", f"{CLIP_START:.3f}", *extra, str(clip)]
    result = subprocess.run(
        command, capture_output=True, text=True, env=env or deployment.client_env(), timeout=300, check=False
    )
    assert result.returncode == 0, f"put-media failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result.stderr


@pytest.fixture(scope="session")
def ingested_stream(keys_stack: Deployment, clip_file: Path) -> str:
    """A stream in the keys-mode stack holding ``clip_file``, sent by `stillframe put-media` over HTTPS."""
    stream = unique_stream("clip")
    put_media(keys_stack, stream, clip_file, "--signing-name", "kinesisvideo")
    return stream


def eventually(check: Callable[[], Any], *, timeout_s: float, what: str, interval_s: float = 0.5) -> Any:
    """Poll ``check`` until it returns something truthy; fail saying ``what`` did not happen."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {timeout_s:.0f} s", pytrace=False)
        time.sleep(interval_s)


@pytest.fixture()
def cleanup_streams(keys_stack: Deployment) -> Iterator[list[str]]:
    """Streams a test created; deleted afterwards."""
    names: list[str] = []
    yield names
    client = sdk_client(keys_stack, "kinesisvideo")
    for name in names:
        try:
            arn = client.describe_stream(StreamName=name)["StreamInfo"]["StreamARN"]
            client.delete_stream(StreamARN=arn)
        except client.exceptions.ResourceNotFoundException:
            pass


def frames_between(archived: Any, stream: str, start_s: float, end_s: float, interval_ms: int = 1000) -> list[int]:
    """The frame number drawn in each JPEG still GetImages returns for clip offsets ``start_s``..``end_s``."""
    page = archived.get_images(
        StreamName=stream,
        ImageSelectorType="PRODUCER_TIMESTAMP",
        StartTimestamp=CLIP_START + start_s,
        EndTimestamp=CLIP_START + end_s,
        SamplingInterval=interval_ms,
        Format="JPEG",
    )
    return [read_frame_number(base64.b64decode(image["ImageContent"])) for image in page["Images"]]
