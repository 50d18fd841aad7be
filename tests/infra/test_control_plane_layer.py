"""ControlPlaneLayer alone, and its Docker-free bundler (pip with --platform, into <asset>/python)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from aws_cdk import Stack
from aws_cdk.assertions import Template

from infra.bundling import BundlingError, PipLayerBundling, pip_target_command
from infra.constructs.control_plane_layer import ControlPlaneLayer
from infra.paths import CONTROL_PLANE_LAYER_DIR


def test_layer_is_for_python311_on_x86_64(bare_stack: Callable[..., Stack]) -> None:
    stack = bare_stack()
    ControlPlaneLayer(stack, "Layer")
    [layer] = Template.from_stack(stack).find_resources("AWS::Lambda::LayerVersion").values()
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.11"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["x86_64"]


def test_pip_command_asks_for_linux_wheels_of_the_lambda_runtime(tmp_path: Path) -> None:
    command = pip_target_command(
        requirements=tmp_path / "requirements.txt",
        target=tmp_path / "python",
        platform="manylinux2014_x86_64",
        python_version="3.11",
        pip=("pip",),
    )
    joined = " ".join(command)
    assert "--platform manylinux2014_x86_64" in joined
    assert "--python-version 3.11" in joined
    assert "--abi cp311" in joined
    assert "--only-binary=:all:" in command
    assert f"--target {tmp_path / 'python'}" in joined


def test_bundler_reports_pip_failure_instead_of_falling_back_to_docker(tmp_path: Path) -> None:
    # Given requirements pip cannot satisfy (a file that does not exist)
    bundler = PipLayerBundling(requirements=tmp_path / "missing.txt")
    # When bundling, Then the synth stops with pip's reason
    with pytest.raises(BundlingError, match=r"missing\.txt"):
        bundler.try_bundle(str(tmp_path / "out"))


def test_bundler_falls_back_to_docker_only_when_pip_cannot_start(tmp_path: Path) -> None:
    bundler = PipLayerBundling(requirements=tmp_path / "r.txt", pip=(str(tmp_path / "no-such-python"), "-m", "pip"))
    assert bundler.try_bundle(str(tmp_path / "out")) is False


@pytest.mark.network
def test_bundler_installs_powertools_without_the_media_stack(tmp_path: Path) -> None:
    # Given the real layer requirements
    bundler = PipLayerBundling(requirements=CONTROL_PLANE_LAYER_DIR / "requirements.txt")
    # When bundling locally, as `cdk synth` does
    assert bundler.try_bundle(str(tmp_path)) is True
    # Then the layer's import root holds Powertools, the X-Ray SDK (tracer) and boto3, and no PyAV or Pillow
    root = tmp_path / "python"
    for package in ("aws_lambda_powertools", "aws_xray_sdk", "boto3", "botocore"):
        assert (root / package / "__init__.py").is_file(), package
    assert not (root / "av").exists()
    assert not (root / "PIL").exists()
    # And compiled parts are Linux x86_64 builds (wrapt is the tracer's native dependency)
    native = [p.name for p in root.rglob("*.so")]
    assert native and all("x86_64-linux-gnu" in name for name in native)
