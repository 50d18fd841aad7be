"""Unmodified AWS CLI and AWS SDK for JavaScript v3 clients against the keys-mode deployment, over HTTPS."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import CLIP_FPS, CLIP_START, Deployment, aws_cli
from tests.support.synth import read_frame_number

pytestmark = pytest.mark.e2e


def test_aws_cli_describe_and_get_images(keys_stack: Deployment, ingested_stream: str) -> None:
    described = aws_cli(keys_stack, "kinesisvideo", "describe-stream", "--stream-name", ingested_stream)
    assert described["StreamInfo"]["StreamName"] == ingested_stream
    # The CLI pages through get-images by itself (--page-size sets MaxResults per request). AWS CLI v1 sends
    # timestamps as whole epoch seconds, so the sampling interval puts the later samples inside GOPs.
    answer = aws_cli(
        keys_stack,
        "kinesis-video-archived-media",
        "get-images",
        "--stream-name", ingested_stream,
        "--image-selector-type", "PRODUCER_TIMESTAMP",
        "--start-timestamp", f"{CLIP_START + 1:.0f}",
        "--end-timestamp", f"{CLIP_START + 5:.0f}",
        "--sampling-interval", "1300",
        "--format", "JPEG",
        "--page-size", "2",
    )  # fmt: skip
    frames = [read_frame_number(base64.b64decode(i["ImageContent"])) for i in answer["Images"]]
    assert frames == [(1000 + 1300 * k) * CLIP_FPS // 1000 for k in range(4)]  # 25, 57, 90, 122


def test_aws_cli_refused_without_credentials(keys_stack: Deployment) -> None:
    aws = os.environ.get("STILLFRAME_E2E_AWS_CLI", "aws")
    command = [aws, "kinesisvideo", "list-streams", "--endpoint-url", keys_stack.api_url, "--no-sign-request"]
    result = subprocess.run(command, capture_output=True, text=True, env=keys_stack.client_env(), timeout=120)
    assert result.returncode != 0 and "NotAuthorizedException" in result.stderr


def js_sdk(deployment: Deployment, *args: str) -> dict:
    js_dir = Path(os.environ.get("STILLFRAME_E2E_JS_DIR", Path(__file__).parent / "js"))
    if not (js_dir / "node_modules").is_dir():
        pytest.fail(f"the JS SDK is not installed in {js_dir}; scripts/e2e.sh installs it", pytrace=False)
    env = deployment.client_env(ENDPOINT=deployment.api_url)
    result = subprocess.run(
        ["node", str(js_dir / "kvs_calls.mjs"), *args], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.stdout, result.stderr
    answer = json.loads(result.stdout)
    assert result.returncode == 0, answer
    return answer


def test_js_sdk_v3_describe_and_get_images(keys_stack: Deployment, ingested_stream: str) -> None:
    described = js_sdk(keys_stack, "describe", ingested_stream)
    assert described["StreamInfo"]["StreamName"] == ingested_stream
    answer = js_sdk(keys_stack, "images", ingested_stream, f"{CLIP_START + 0.2:.3f}", f"{CLIP_START + 5.5:.3f}", "1000")
    frames = [read_frame_number(base64.b64decode(i["ImageContent"])) for i in answer["Images"]]
    assert frames == [int((0.2 + k) * CLIP_FPS) for k in range(6)]
    assert answer["Pages"] == 2  # MaxResults 4: the SDK's paginator followed the NextToken
