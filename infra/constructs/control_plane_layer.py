"""The Lambda layer of the zip-packaged control-plane function: Powertools and boto3, no media stack."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import BundlingOptions, DockerImage
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.bundling import LAMBDA_PY311_PLATFORM, PipLayerBundling
from infra.paths import CONTROL_PLANE_LAYER_DIR

REQUIREMENTS_FILE = "requirements.txt"


class ControlPlaneLayer(Construct):
    """A layer built from ``layers/control_plane/requirements.txt`` by pip on the synth machine.

    Docker is only the fallback CDK requires a bundling image for; local bundling always runs first.

    Attributes:
      layer: the layer version.
    """

    def __init__(self, scope: Construct, construct_id: str, *, source_dir: Path = CONTROL_PLANE_LAYER_DIR) -> None:
        super().__init__(scope, construct_id)
        requirements = source_dir / REQUIREMENTS_FILE
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            description="Stillframe control plane: aws-lambda-powertools[tracer], boto3 (no media stack)",
            code=lambda_.Code.from_asset(
                str(source_dir),
                bundling=BundlingOptions(
                    image=DockerImage.from_registry("public.ecr.aws/sam/build-python3.11"),
                    local=PipLayerBundling(requirements=requirements, platform=LAMBDA_PY311_PLATFORM),
                    command=[
                        "bash",
                        "-c",
                        f"pip install --only-binary=:all: -r {REQUIREMENTS_FILE} -t /asset-output/python",
                    ],
                ),
            ),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_11],
            compatible_architectures=[lambda_.Architecture.X86_64],
        )
