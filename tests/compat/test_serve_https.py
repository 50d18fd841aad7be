"""`stillframe serve --https` as a real process: its own CA, trusted by unmodified boto3 and the stillframe CLI.

Nothing here is patched: boto3 gets ``verify=<ca.pem>`` (or ``AWS_CA_BUNDLE``), as a user would be told by the
start banner, and without it the connection is refused by certificate verification.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from tests.support.serve import running_serve

START = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)
NO_RETRIES = Config(retries={"total_max_attempts": 1})


def client(service: str, url: str, **kwargs: Any) -> Any:
    return boto3.client(
        service, endpoint_url=url, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test",
        config=NO_RETRIES, **kwargs,
    )  # fmt: skip


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "stillframe.cli.main", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture(autouse=True)
def no_ca_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_CA_BUNDLE", raising=False)  # each test says what it trusts


@pytest.fixture(scope="module")
def https(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, list[str]]]:
    data_dir = tmp_path_factory.mktemp("serve-https")
    with running_serve("--data-dir", str(data_dir), "--https") as (url, banner):
        yield url, data_dir / "tls" / "ca.pem", banner


def test_the_banner_names_the_ca_file_for_aws_ca_bundle(https: tuple[str, Path, list[str]]) -> None:
    url, ca, banner = https
    assert url.startswith("https://127.0.0.1:")
    assert any(f"AWS_CA_BUNDLE={ca}" in line for line in banner), banner
    assert ca.read_text().startswith("-----BEGIN CERTIFICATE-----")


def test_boto3_trusts_the_ca_it_is_given_and_refuses_without_it(https: tuple[str, Path, list[str]]) -> None:
    url, ca, _ = https
    # Given boto3 clients verifying with the CA file the banner printed
    kv = client("kinesisvideo", url, verify=str(ca))
    kv.create_stream(StreamName="tls-lobby", DataRetentionInHours=1)
    # When they call the control plane and GetImages / Then it works, and the data endpoint is https too
    endpoint = kv.get_data_endpoint(StreamName="tls-lobby", APIName="GET_IMAGES")["DataEndpoint"]
    assert endpoint == url
    media = client("kinesis-video-archived-media", endpoint, verify=str(ca))
    images = media.get_images(
        StreamName="tls-lobby", ImageSelectorType="PRODUCER_TIMESTAMP", StartTimestamp=START, EndTimestamp=START,
        Format="JPEG",
    )["Images"]  # fmt: skip
    assert [image.get("Error") for image in images] == ["NO_MEDIA"]
    # And a client trusting only the system's CAs is refused by certificate verification
    with pytest.raises(botocore.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        client("kinesisvideo", url).list_streams()


def test_put_media_and_get_images_trust_aws_ca_bundle(
    https: tuple[str, Path, list[str]], clip_factory: Any, tmp_path: Path
) -> None:
    url, ca, _ = https
    clip = tmp_path / "clip.mkv"
    clip.write_bytes(clip_factory(seconds=2, fps=10, width=160, height=120))
    env = {**os.environ, "AWS_CA_BUNDLE": str(ca)}
    # When put-media uploads over HTTPS with the CA in AWS_CA_BUNDLE / Then every fragment is persisted
    put = cli(
        "put-media", "--endpoint-url", url, "--stream", "tls-porch", "--create-stream",
        "--producer-start-time", START.isoformat(), str(clip), env=env,
    )  # fmt: skip
    assert put.returncode == 0, put.stderr
    assert {json.loads(line)["EventType"] for line in put.stdout.splitlines()} == {"PERSISTED"}
    # And get-images saves its stills the same way
    get = cli(
        "get-images", "--endpoint-url", url, "--stream", "tls-porch", "--start", START.isoformat(),
        "--end", str(START.timestamp() + 1), "--interval", "500", "--out", str(tmp_path / "stills"), env=env,
    )  # fmt: skip
    assert get.returncode == 0, get.stderr
    assert len(list((tmp_path / "stills").glob("*.jpg"))) == 3
    # And without the CA, get-images fails on one line instead of saving anything
    env.pop("AWS_CA_BUNDLE")
    refused = cli(
        "get-images", "--endpoint-url", url, "--stream", "tls-porch", "--start", START.isoformat(),
        "--end", START.isoformat(), "--out", str(tmp_path / "none"), env=env,
    )  # fmt: skip
    assert refused.returncode == 1
    assert "certificate" in refused.stderr.lower(), refused.stderr


def test_a_restart_keeps_the_ca_and_given_certificate_files_serve_too(tmp_path: Path) -> None:
    # Given a first --https start that made the CA
    with running_serve("--data-dir", str(tmp_path), "--https"):
        pass
    ca = tmp_path / "tls" / "ca.pem"
    first_ca = ca.read_bytes()
    # When serve starts again / Then the CA clients were given still verifies it
    with running_serve("--data-dir", str(tmp_path), "--https") as (url, _):
        assert ca.read_bytes() == first_ca
        assert client("kinesisvideo", url, verify=str(ca)).list_streams()["StreamInfoList"] == []
    # And the same files given as --tls-cert/--tls-key serve HTTPS without the local CA
    server_pem = str(tmp_path / "tls" / "server.pem")
    with running_serve("--data-dir", str(tmp_path / "other"), "--tls-cert", server_pem, "--tls-key", server_pem) as (
        url,
        banner,
    ):
        assert url.startswith("https://")
        assert any(line == f"tls: certificate {server_pem}" for line in banner), banner
        assert client("kinesisvideo", url, verify=str(ca)).list_streams()["StreamInfoList"] == []
        assert not (tmp_path / "other" / "tls").exists()
