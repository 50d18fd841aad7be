"""How a Stillframe function's code is packaged: the runtime image, or a zip on a managed Python runtime.

The function constructs take a packaging and stay the same otherwise, so the deployed stack (image
functions, the control plane on its layer) and the LocalStack build (every function a zip of one
self-contained asset) differ in packaging only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aws_cdk import AssetHashType, BundlingOptions
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.bundling import SelfContainedBundling
from infra.constructs.runtime import image_code
from infra.paths import LAMBDA_SRC

PACKAGE_DIR = LAMBDA_SRC / "stillframe"
IMAGE_REQUIREMENTS = LAMBDA_SRC / "requirements-lambda.txt"
# The runtimes a LocalStack build may ask for (context localstackRuntime).
ZIP_RUNTIMES = {"python3.11": lambda_.Runtime.PYTHON_3_11, "python3.12": lambda_.Runtime.PYTHON_3_12}


class FunctionPackaging(Protocol):
    """Makes the Lambda function of a handler; ``props`` are everything but code, runtime and handler."""

    def function(self, scope: Construct, construct_id: str, *, handler: str, **props: Any) -> lambda_.Function: ...


class ImagePackaging:
    """The runtime container image (lambda_src/Dockerfile), started with the handler as its CMD."""

    def function(self, scope: Construct, construct_id: str, *, handler: str, **props: Any) -> lambda_.Function:
        return lambda_.DockerImageFunction(scope, construct_id, code=image_code(handler), **props)


@dataclass(frozen=True)
class ZipPackaging:
    """A zip asset on a managed runtime, optionally with layers; one asset may serve several functions."""

    code: lambda_.Code
    runtime: lambda_.Runtime
    layers: Sequence[lambda_.ILayerVersion] = ()

    def function(self, scope: Construct, construct_id: str, *, handler: str, **props: Any) -> lambda_.Function:
        return lambda_.Function(
            scope,
            construct_id,
            code=self.code,
            runtime=self.runtime,
            handler=handler,
            layers=list(self.layers) or None,
            **props,
        )


def self_contained_packaging(runtime_name: str) -> ZipPackaging:
    """One zip of the stillframe package and all its runtime wheels, for every function; no layer.

    Community LocalStack runs neither container images nor layers, so this is its build of the functions.
    The asset hash is the bundler's fingerprint of the package and the pins: an unchanged re-synth reuses
    the staged asset instead of running pip again.
    """
    runtime = ZIP_RUNTIMES[runtime_name]
    python_version = runtime_name.removeprefix("python")
    bundler = SelfContainedBundling(
        requirements=IMAGE_REQUIREMENTS, package_dir=PACKAGE_DIR, python_version=python_version
    )
    code = lambda_.Code.from_asset(
        str(LAMBDA_SRC),
        asset_hash=bundler.fingerprint(),
        asset_hash_type=AssetHashType.CUSTOM,
        bundling=BundlingOptions(
            image=runtime.bundling_image,
            local=bundler,
            command=["bash", "-c", _docker_fallback_command(bundler)],
        ),
    )
    return ZipPackaging(code=code, runtime=runtime)


def _docker_fallback_command(bundler: SelfContainedBundling) -> str:
    """The same bundle inside CDK's bundling image, for a synth machine whose pip cannot start."""
    return (
        f"grep -v '^awslambdaric' {IMAGE_REQUIREMENTS.name} > /tmp/requirements.txt"
        f" && pip install --no-compile --only-binary=:all: --platform {bundler.platform}"
        f" --python-version {bundler.python_version} --implementation cp"
        " -r /tmp/requirements.txt -t /asset-output"
        f" && cp -r {PACKAGE_DIR.name} /asset-output/"
        " && find /asset-output -name __pycache__ -prune -exec rm -rf {} +"
    )
