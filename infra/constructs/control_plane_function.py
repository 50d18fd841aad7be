"""The control-plane function: CreateStream, DescribeStream, ListStreams, DeleteStream, GetDataEndpoint.

A zip function (the stillframe package from ``lambda_src/``) on the control-plane layer, so these light
calls start in a fraction of the media image's cold start; their routes never import PyAV. The LocalStack
build passes another packaging (one self-contained zip for every function).
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs.packaging import FunctionPackaging, ZipPackaging
from infra.constructs.runtime import API_HANDLER, function_basics
from infra.paths import LAMBDA_SRC

# Only the package goes into the zip: the image's Dockerfile and build files stay out.
CODE_EXCLUDES = ["Dockerfile", "requirements-lambda.txt", "**/__pycache__", "**/*.pyc", "*.egg-info", "**/*.egg-info"]

# Memory buys CPU for the cold-start imports (Powertools, boto3); the calls themselves are a few S3 requests.
MEMORY_MB = 1024
# Under API Gateway's 29 s integration limit, with room for DeleteStream on a stream with many objects.
TIMEOUT = Duration.seconds(25)


def layered_packaging(layer: lambda_.ILayerVersion) -> ZipPackaging:
    """The deployed packaging: the package alone, on Python 3.11, with its dependencies in ``layer``."""
    return ZipPackaging(
        code=lambda_.Code.from_asset(str(LAMBDA_SRC), exclude=CODE_EXCLUDES),
        runtime=lambda_.Runtime.PYTHON_3_11,
        layers=[layer],
    )


class ControlPlaneFunction(Construct):
    """The zip function behind the control-plane routes and the catch-all (unknown paths answer 404).

    Attributes:
      function: the Lambda function.
      log_group: its log group.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        packaging: FunctionPackaging,
        bucket_name: str,
        key_prefix: str,
        token_secret_arn: str,
        log_retention: logs.RetentionDays,
        auth_environment: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group, basics = function_basics(
            self,
            log_retention=log_retention,
            bucket_name=bucket_name,
            key_prefix=key_prefix,
            token_secret_arn=token_secret_arn,
            extra_environment=auth_environment,
        )
        self.function = packaging.function(
            self,
            "Function",
            handler=API_HANDLER,
            description="Stillframe control plane: streams and data endpoint",
            memory_size=MEMORY_MB,
            timeout=TIMEOUT,
            **basics,
        )
