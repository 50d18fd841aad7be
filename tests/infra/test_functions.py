"""The three function constructs alone: packaging, sizing, tracing, environment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template

from infra.constructs.control_plane_function import ControlPlaneFunction, layered_packaging
from infra.constructs.media_function import MediaFunction

API_GATEWAY_INTEGRATION_LIMIT_S = 29


def _properties(stack: Stack, function: lambda_.IFunction) -> dict[str, Any]:
    logical_id = stack.get_logical_id(function.node.default_child)  # type: ignore[arg-type]
    resource: dict[str, Any] = Template.from_stack(stack).find_resources("AWS::Lambda::Function")[logical_id]
    return resource["Properties"]


def _media(stack: Stack, **kwargs: Any) -> MediaFunction:
    return MediaFunction(
        stack,
        "Media",
        bucket_name="media-bucket",
        key_prefix="",
        token_secret_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:tokens",
        log_retention=logs.RetentionDays.ONE_WEEK,
        **kwargs,
    )


def test_media_function_is_an_image_sized_for_two_decode_threads(bare_stack: Callable[..., Stack]) -> None:
    # Given the media function with its defaults
    stack = bare_stack()
    media = _media(stack)
    props = _properties(stack, media.function)
    # Then it runs the API handler from the container image, on x86_64, traced
    assert props["PackageType"] == "Image"
    assert props["ImageConfig"]["Command"] == ["stillframe.handlers.api.lambda_handler"]
    assert props["Architectures"] == ["x86_64"]
    assert props["TracingConfig"] == {"Mode": "Active"}
    # And it has two vCPUs (Lambda: one per 1,769 MB) and ends before API Gateway gives up on it
    assert props["MemorySize"] >= 2 * 1769
    assert props["Timeout"] < API_GATEWAY_INTEGRATION_LIMIT_S
    # And it is unreserved unless asked
    assert "ReservedConcurrentExecutions" not in props


def test_media_function_takes_memory_and_reserved_concurrency_from_its_arguments(
    bare_stack: Callable[..., Stack],
) -> None:
    stack = bare_stack()
    media = _media(stack, memory_mb=2048, reserved_concurrency=5)
    props = _properties(stack, media.function)
    assert props["MemorySize"] == 2048
    assert props["ReservedConcurrentExecutions"] == 5


def test_media_function_environment_selects_the_s3_store(bare_stack: Callable[..., Stack]) -> None:
    stack = bare_stack()
    env = _properties(stack, _media(stack).function)["Environment"]["Variables"]
    assert env["STILLFRAME_STORE"] == "s3"
    assert env["STILLFRAME_BUCKET"] == "media-bucket"
    assert env["STILLFRAME_PREFIX"] == ""
    assert env["STILLFRAME_TOKEN_SECRET_ARN"].startswith("arn:aws:secretsmanager:")
    assert env["STILLFRAME_REGION"] == {"Ref": "AWS::Region"}
    assert env["STILLFRAME_ACCOUNT_ID"] == {"Ref": "AWS::AccountId"}
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Stillframe"


def test_execution_role_writes_only_to_the_functions_own_log_group(bare_stack: Callable[..., Stack]) -> None:
    # Given the media function
    stack = bare_stack()
    media = _media(stack)
    template = Template.from_stack(stack)
    log_group_id = stack.get_logical_id(media.log_group.node.default_child)  # type: ignore[arg-type]
    # Then its role has no managed policy and its log statement names its log group
    [role] = template.find_resources("AWS::IAM::Role").values()
    assert "ManagedPolicyArns" not in role["Properties"]
    [policy] = template.find_resources("AWS::IAM::Policy").values()
    log_statements = [
        s for s in policy["Properties"]["PolicyDocument"]["Statement"] if "logs:PutLogEvents" in s["Action"]
    ]
    assert [s["Resource"] for s in log_statements] == [{"Fn::GetAtt": [log_group_id, "Arn"]}]


def test_control_plane_is_a_python311_zip_of_the_package_on_its_layer(
    bare_stack: Callable[..., Stack], tmp_path: Path
) -> None:
    # Given the control-plane function on some layer
    stack = bare_stack()
    layer = lambda_.LayerVersion.from_layer_version_arn(
        stack, "Layer", "arn:aws:lambda:us-east-1:123456789012:layer:deps:1"
    )
    control = ControlPlaneFunction(
        stack,
        "Control",
        packaging=layered_packaging(layer),
        bucket_name="media-bucket",
        key_prefix="",
        token_secret_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:tokens",
        log_retention=logs.RetentionDays.ONE_WEEK,
    )
    props = _properties(stack, control.function)
    # Then it is a zip on Python 3.11 with the API handler and the layer
    assert props["Runtime"] == "python3.11"
    assert props["Handler"] == "stillframe.handlers.api.lambda_handler"
    assert props["Layers"] == ["arn:aws:lambda:us-east-1:123456789012:layer:deps:1"]
    assert "PackageType" not in props
    # And its code asset is the stillframe package, without the image's build files
    stack.node.root.synth()  # type: ignore[attr-defined]
    asset_dir = tmp_path / f"asset.{props['Code']['S3Key'].removesuffix('.zip')}"
    assert (asset_dir / "stillframe" / "handlers" / "api.py").is_file()
    assert not (asset_dir / "Dockerfile").exists()
    assert not (asset_dir / "requirements-lambda.txt").exists()
    assert not list(asset_dir.rglob("*.egg-info"))
