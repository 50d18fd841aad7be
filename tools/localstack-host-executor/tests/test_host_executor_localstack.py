"""Zip functions created and invoked through a real LocalStack with the `host` executor, over verified HTTPS."""

from __future__ import annotations

import base64
import io
import json
import textwrap
import uuid
import zipfile
from collections.abc import Callable
from typing import Any

import boto3
import pytest

pytestmark = pytest.mark.localstack_lambda

HANDLER = """
import os, time
import boto3

print("cold start")

def handler(event, context):
    print("event", event)
    action = event.get("action")
    if action == "raise":
        raise ValueError("boom")
    if action == "sleep":
        time.sleep(event["seconds"])
    if action == "env":
        return {name: os.environ.get(name) for name in ("GREETING", "LAMBDA_TASK_ROOT", "AWS_LAMBDA_FUNCTION_NAME")}
    if action == "s3":
        boto3.client("s3").put_object(Bucket=event["bucket"], Key="from-lambda.txt", Body=b"written by the function")
        return {"endpoint": os.environ["AWS_ENDPOINT_URL"]}
    return {"echo": event, "cwd": os.getcwd()}
"""


def zipped(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("fn.py", textwrap.dedent(source))
    return buffer.getvalue()


def client(env: dict[str, str], service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=env["AWS_ENDPOINT_URL"],
        verify=env["AWS_CA_BUNDLE"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.fixture(scope="module")
def lambda_client(localstack_env: dict[str, str]) -> Any:
    return client(localstack_env, "lambda")


@pytest.fixture(scope="module")
def create_function(lambda_client: Any) -> Callable[..., str]:
    """Create a python3.11 zip function from source and wait until it is active; returns its name."""

    def create(source: str = HANDLER, timeout: int = 10, variables: dict[str, str] | None = None) -> str:
        name = f"host-exec-{uuid.uuid4().hex[:8]}"
        lambda_client.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role="arn:aws:iam::000000000000:role/lambda-test",
            Handler="fn.handler",
            Code={"ZipFile": zipped(source)},
            Timeout=timeout,
            Environment={"Variables": variables or {}},
        )
        lambda_client.get_waiter("function_active_v2").wait(FunctionName=name)
        return name

    return create


@pytest.fixture(scope="module")
def function(create_function: Callable[..., str]) -> str:
    return create_function(timeout=2, variables={"GREETING": "hello from the test"})


def invoke(lambda_client: Any, name: str, event: dict[str, Any]) -> tuple[dict[str, Any], Any, str]:
    """Invoke synchronously; returns (response, decoded payload, tail of the logs)."""
    response = lambda_client.invoke(FunctionName=name, Payload=json.dumps(event), LogType="Tail")
    payload = json.loads(response["Payload"].read())
    return response, payload, base64.b64decode(response.get("LogResult", "")).decode()


def test_a_handler_result_is_the_payload_with_lambda_style_logs(lambda_client: Any, function: str) -> None:
    response, payload, logs = invoke(lambda_client, function, {"action": "echo", "n": 1})
    assert response["StatusCode"] == 200 and "FunctionError" not in response
    assert payload["echo"] == {"action": "echo", "n": 1}
    assert "START RequestId:" in logs and "event {'action': 'echo', 'n': 1}" in logs
    assert "END RequestId:" in logs and "REPORT RequestId:" in logs


def test_a_raising_handler_is_an_unhandled_function_error(lambda_client: Any, function: str) -> None:
    response, payload, logs = invoke(lambda_client, function, {"action": "raise"})
    assert response["StatusCode"] == 200 and response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "ValueError" and payload["errorMessage"] == "boom"
    assert "ValueError: boom" in logs  # awslambdaric's error line reaches the function's logs


def test_an_import_error_is_a_function_error_not_a_server_error(
    lambda_client: Any, create_function: Callable[..., str]
) -> None:
    name = create_function("import no_such_module\n\ndef handler(event, context):\n    return 1\n")
    for _ in range(2):  # the failed init is retried on the next invoke, with the same answer
        response, payload, _ = invoke(lambda_client, name, {})
        assert response["StatusCode"] == 200 and response["FunctionError"] == "Unhandled"
        assert payload["errorType"] == "Runtime.ImportModuleError"
        assert "No module named 'no_such_module'" in payload["errorMessage"]


def test_a_timeout_kills_the_invocation_and_the_next_one_starts_fresh(lambda_client: Any, function: str) -> None:
    response, payload, logs = invoke(lambda_client, function, {"action": "sleep", "seconds": 30})
    assert response["FunctionError"] == "Unhandled" and payload["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 2.00 seconds" in payload["errorMessage"]
    assert "Task timed out after 2.00 seconds" in logs
    response, payload, logs = invoke(lambda_client, function, {"action": "echo"})
    assert "FunctionError" not in response and payload["echo"] == {"action": "echo"}
    assert "cold start" in logs  # a new process ran the module again


def test_the_function_sees_its_variables_and_its_code_dir(lambda_client: Any, function: str) -> None:
    _, payload, _ = invoke(lambda_client, function, {"action": "env"})
    assert payload["GREETING"] == "hello from the test"
    assert payload["AWS_LAMBDA_FUNCTION_NAME"] == function
    _, echoed, _ = invoke(lambda_client, function, {"action": "echo"})
    assert payload["LAMBDA_TASK_ROOT"] == echoed["cwd"]


def test_the_function_reaches_localstack_s3_through_aws_endpoint_url(
    lambda_client: Any, function: str, localstack_env: dict[str, str]
) -> None:
    s3 = client(localstack_env, "s3")
    bucket = f"host-exec-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    response, payload, _ = invoke(lambda_client, function, {"action": "s3", "bucket": bucket})
    assert "FunctionError" not in response, payload
    assert payload["endpoint"].startswith("http://127.0.0.1:")
    assert s3.get_object(Bucket=bucket, Key="from-lambda.txt")["Body"].read() == b"written by the function"
