"""Unmodified clients against a real `stillframe serve --keys-file`: boto3, the AWS CLI, the JS SDK v3, put-media.

Keys are made and revoked with the real `stillframe keys` command; serve re-reads the file on every request, so a
revocation is refused at once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.support.serve import running_serve

ROOT = Path(__file__).resolve().parents[2]
JS_CALLS = ROOT / "tests" / "e2e" / "js" / "kvs_calls.mjs"
START = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)
REGION = "ap-southeast-2"  # any region is accepted


def keys_cli(keys_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "stillframe.cli.main", "keys", *args[:1], "--keys-file", str(keys_file), *args[1:]]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def create_key(keys_file: Path, *flags: str) -> dict[str, str]:
    made = keys_cli(keys_file, "create", "--json", *flags)
    assert made.returncode == 0, made.stderr
    return json.loads(made.stdout)


@pytest.fixture(scope="module")
def keys_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys") / "keys.json"


@pytest.fixture(scope="module")
def admin(keys_file: Path) -> dict[str, str]:
    return create_key(keys_file, "--description", "admin")


@pytest.fixture(scope="module")
def url(keys_file: Path, admin: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("serve-keys")
    with running_serve("--data-dir", str(data_dir), "--keys-file", str(keys_file)) as (base_url, banner):
        assert any("auth: keys from" in line and "(1 active)" in line for line in banner), banner
        yield base_url


def client(service: str, url: str, key: dict[str, str]) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        config=Config(retries={"max_attempts": 1}),
    )


def get_images(archived: Any, stream: str) -> list[Any]:
    reply = archived.get_images(
        StreamName=stream,
        ImageSelectorType="PRODUCER_TIMESTAMP",
        StartTimestamp=START,
        EndTimestamp=START + timedelta(seconds=1),
        SamplingInterval=500,
        Format="JPEG",
    )
    return list(reply["Images"])


@pytest.fixture(scope="module")
def streams(url: str, admin: dict[str, str]) -> list[str]:
    control = client("kinesisvideo", url, admin)
    for name in ("lobby-1", "garage"):
        control.create_stream(StreamName=name, DataRetentionInHours=1)
    return ["lobby-1", "garage"]


def test_boto3_create_stream_and_get_images_with_a_key(url: str, admin: dict[str, str], streams: list[str]) -> None:
    # Given unmodified boto3 clients signing (for kinesisvideo) with a key from `stillframe keys create`
    control = client("kinesisvideo", url, admin)
    endpoint = control.get_data_endpoint(StreamName="lobby-1", APIName="GET_IMAGES")["DataEndpoint"]

    # When they ask for images / Then they are served
    images = get_images(client("kinesis-video-archived-media", endpoint, admin), "lobby-1")
    assert [image["Error"] for image in images] == ["NO_MEDIA"] * 3


def test_limited_keys_are_refused_with_not_authorized(url: str, keys_file: Path, streams: list[str]) -> None:
    viewer = create_key(keys_file, "--stream-prefix", "lobby-", "--read-only")
    control = client("kinesisvideo", url, viewer)
    archived = client("kinesis-video-archived-media", url, viewer)
    assert [info["StreamName"] for info in control.list_streams()["StreamInfoList"]] == ["lobby-1"]
    assert len(get_images(archived, "lobby-1")) == 3
    for call, reason in [
        (lambda: get_images(archived, "garage"), "may not use stream 'garage'"),
        (lambda: control.create_stream(StreamName="lobby-9"), "is read-only"),
    ]:
        with pytest.raises(ClientError) as refused:
            call()
        assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 401
        assert reason in refused.value.response["Error"]["Message"]


def test_a_revoked_key_is_refused_at_once(url: str, keys_file: Path, streams: list[str]) -> None:
    key = create_key(keys_file)
    control = client("kinesisvideo", url, key)
    assert control.describe_stream(StreamName="garage")["StreamInfo"]["StreamName"] == "garage"
    assert keys_cli(keys_file, "revoke", key["AccessKeyId"]).returncode == 0
    with pytest.raises(control.exceptions.NotAuthorizedException, match="was revoked"):
        control.describe_stream(StreamName="garage")


def test_a_wrong_secret_is_refused(url: str, admin: dict[str, str], streams: list[str]) -> None:
    wrong = client("kinesisvideo", url, {**admin, "SecretAccessKey": "x" * 40})
    with pytest.raises(wrong.exceptions.NotAuthorizedException, match="signature we calculated does not match"):
        wrong.list_streams()


def test_put_media_uploads_with_a_key(url: str, admin: dict[str, str], clip_factory: Any, tmp_path: Path) -> None:
    # Given a clip and a key in the environment, as for any AWS key pair
    clip = tmp_path / "clip.mkv"
    clip.write_bytes(clip_factory(seconds=2, fps=10, width=160, height=120))
    env = {**os.environ, "AWS_ACCESS_KEY_ID": admin["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": admin["SecretAccessKey"]}
    command = [sys.executable, "-m", "stillframe.cli.main", "put-media", "--endpoint-url", url, "--stream", "lobby-pm"]
    command += ["--create-stream", "--signing-name", "kinesisvideo", "--producer-start-time", "1795600800", str(clip)]

    # When put-media uploads it / Then every fragment is persisted
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert {json.loads(line)["EventType"] for line in done.stdout.splitlines()} == {"PERSISTED"}

    # And without credentials it is refused, with the reason on one line
    env.pop("AWS_ACCESS_KEY_ID")
    env.update(AWS_SECRET_ACCESS_KEY="wrong", AWS_ACCESS_KEY_ID="SFAKAAAAAAAAAAAAAAAA")
    refused = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert refused.returncode == 1 and "NotAuthorizedException" in refused.stderr


AWS_CLI = Path(sys.executable).with_name("aws")


@pytest.mark.skipif(not AWS_CLI.exists(), reason="the AWS CLI is not installed in the venv (dev extra)")
def test_the_aws_cli_with_a_key(url: str, admin: dict[str, str], keys_file: Path, streams: list[str]) -> None:
    viewer = create_key(keys_file, "--stream-prefix", "garage", "--read-only")

    def aws(key: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
        env.pop("AWS_PROFILE", None)
        command = [str(AWS_CLI), *args, "--endpoint-url", url, "--region", REGION, "--output", "json"]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)

    listed = aws(viewer, "kinesisvideo", "list-streams")
    assert listed.returncode == 0, listed.stderr
    assert [info["StreamName"] for info in json.loads(listed.stdout)["StreamInfoList"]] == ["garage"]
    described = aws(admin, "kinesisvideo", "describe-stream", "--stream-name", "lobby-1")
    assert json.loads(described.stdout)["StreamInfo"]["StreamName"] == "lobby-1"
    images = aws(
        viewer,
        "kinesis-video-archived-media",
        "get-images",
        "--stream-name",
        "garage",
        "--image-selector-type",
        "PRODUCER_TIMESTAMP",
        "--start-timestamp",
        START.isoformat(),
        "--end-timestamp",
        (START + timedelta(seconds=1)).isoformat(),
        "--sampling-interval",
        "500",
        "--format",
        "JPEG",
    )
    assert images.returncode == 0, images.stderr
    assert [image["Error"] for image in json.loads(images.stdout)["Images"]] == ["NO_MEDIA"] * 3
    refused = aws(viewer, "kinesisvideo", "describe-stream", "--stream-name", "lobby-1")
    assert refused.returncode != 0 and "NotAuthorizedException" in refused.stderr


@pytest.mark.skipif(
    shutil.which("node") is None or not (JS_CALLS.parent / "node_modules").is_dir(),
    reason="node or tests/e2e/js/node_modules is missing",
)
def test_the_js_sdk_v3_with_a_key(url: str, admin: dict[str, str], streams: list[str]) -> None:
    env = {
        **os.environ,
        "ENDPOINT": url,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": admin["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": admin["SecretAccessKey"],
    }
    described = subprocess.run(
        ["node", str(JS_CALLS), "describe", "lobby-1"], capture_output=True, text=True, env=env, timeout=60
    )
    assert described.returncode == 0, described.stdout + described.stderr
    assert json.loads(described.stdout)["StreamInfo"]["StreamName"] == "lobby-1"
    start = str(int(START.timestamp()))
    images = subprocess.run(
        ["node", str(JS_CALLS), "images", "lobby-1", start, str(int(start) + 1), "500"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert images.returncode == 0, images.stdout + images.stderr
    assert [image["Error"] for image in json.loads(images.stdout)["Images"]] == ["NO_MEDIA"] * 3
    env["AWS_SECRET_ACCESS_KEY"] = "x" * 40
    refused = subprocess.run(
        ["node", str(JS_CALLS), "describe", "lobby-1"], capture_output=True, text=True, env=env, timeout=60
    )
    assert json.loads(refused.stdout)["ErrorName"] == "NotAuthorizedException"
