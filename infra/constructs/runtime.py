"""What every Stillframe function shares: handlers, architecture, the container image and the environment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Aws, IgnoreMode, RemovalPolicy
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.paths import DOCKERFILE, REPO_ROOT

API_HANDLER = "stillframe.handlers.api.lambda_handler"
INGEST_HANDLER = "stillframe.handlers.dropzone.lambda_handler"
DELIVERY_HANDLER = "stillframe.handlers.delivery.lambda_handler"

# x86_64 everywhere: the image builds natively on the usual x86 workstation/CI (no QEMU), and the layer's
# manylinux2014_x86_64 wheels match. Graviton would cost ~20% less per GB-s; see docs/deploy.md.
ARCHITECTURE = lambda_.Architecture.X86_64
IMAGE_PLATFORM = ecr_assets.Platform.LINUX_AMD64

# The build context is the repo root (the image pip-installs the project from pyproject.toml), but only
# these paths enter it: staging stays small and the image hash changes only when runtime code changes.
IMAGE_CONTEXT_EXCLUDES = [
    "*",
    "!pyproject.toml",
    "!README.md",
    "!lambda_src",
    "**/__pycache__",
    "**/*.pyc",
    "**/*.egg-info",
]


def image_code(handler: str) -> lambda_.DockerImageCode:
    """The one runtime image, started with ``handler`` (a CMD override); every caller shares one asset."""
    return lambda_.DockerImageCode.from_image_asset(
        str(REPO_ROOT),
        file=str(DOCKERFILE.relative_to(REPO_ROOT)),
        cmd=[handler],
        platform=IMAGE_PLATFORM,
        exclude=IMAGE_CONTEXT_EXCLUDES,
        ignore_mode=IgnoreMode.DOCKER,
    )


# Who verifies SigV4 (env STILLFRAME_AUTH): "none" = API Gateway did (AWS_IAM), "keys" = the function does,
# against the access-key store in STILLFRAME_KEYS_SECRET_ARN (cached STILLFRAME_KEYS_CACHE_SECONDS).
AUTH_BY_GATEWAY = "none"
AUTH_BY_KEYS = "keys"


def auth_environment(*, keys_secret_arn: str | None, keys_cache_seconds: int | None = None) -> dict[str, str]:
    """The API functions' auth variables: checked by the gateway, or by the function against the key store."""
    if keys_secret_arn is None:
        return {"STILLFRAME_AUTH": AUTH_BY_GATEWAY}
    env = {"STILLFRAME_AUTH": AUTH_BY_KEYS, "STILLFRAME_KEYS_SECRET_ARN": keys_secret_arn}
    if keys_cache_seconds is not None:
        env["STILLFRAME_KEYS_CACHE_SECONDS"] = str(keys_cache_seconds)
    return env


def runtime_environment(*, bucket_name: str, key_prefix: str, token_secret_arn: str | None) -> dict[str, str]:
    """Environment variables read by ``stillframe.settings.Settings.from_env`` and Powertools."""
    env = {
        "STILLFRAME_STORE": "s3",
        "STILLFRAME_BUCKET": bucket_name,
        "STILLFRAME_PREFIX": key_prefix,
        "STILLFRAME_REGION": Aws.REGION,
        "STILLFRAME_ACCOUNT_ID": Aws.ACCOUNT_ID,
        "POWERTOOLS_SERVICE_NAME": "stillframe",
        "POWERTOOLS_METRICS_NAMESPACE": "Stillframe",
    }
    if token_secret_arn is not None:
        env["STILLFRAME_TOKEN_SECRET_ARN"] = token_secret_arn
    return env


def execution_role(scope: Construct, *, log_group: logs.ILogGroup) -> iam.Role:
    """A function's execution role that may write only to its own log group.

    Instead of AWSLambdaBasicExecutionRole (logs on every log group of the account); CDK adds what the
    function's own features need (X-Ray, ECR pull, the failure destination) and the stack adds data grants.
    """
    role = iam.Role(scope, "ExecutionRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    log_group.grant_write(role)
    return role


def function_basics(
    scope: Construct,
    *,
    log_retention: logs.RetentionDays,
    bucket_name: str,
    key_prefix: str,
    token_secret_arn: str | None,
    extra_environment: Mapping[str, str] | None = None,
) -> tuple[logs.LogGroup, dict[str, Any]]:
    """A function's own log group, and the properties every Stillframe function shares.

    Shared: architecture, active X-Ray tracing, the log group, an execution role that writes only there,
    and the runtime environment (plus ``extra_environment``). Pass the dict as keyword arguments to the
    function's constructor.
    """
    log_group = logs.LogGroup(scope, "Logs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY)
    return log_group, {
        "architecture": ARCHITECTURE,
        "tracing": lambda_.Tracing.ACTIVE,
        "log_group": log_group,
        "role": execution_role(scope, log_group=log_group),
        "environment": {
            **runtime_environment(bucket_name=bucket_name, key_prefix=key_prefix, token_secret_arn=token_secret_arn),
            **(extra_environment or {}),
        },
    }
