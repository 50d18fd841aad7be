"""Every pinned runtime dependency installs on Lambda as a prebuilt wheel, for the platform it will run on.

Two targets: the container image (lambda_src/Dockerfile; its base image fixes glibc, its interpreter the
Python version) and the control-plane layer (Lambda's python3.11 runtime: Amazon Linux 2, glibc 2.26,
so manylinux2014 at most). A dependency without a wheel there would make `docker build` compile from
source (PyAV against an FFmpeg that is not there) or leave the layer without the package.

The download tests need PyPI (``-m "not network"`` deselects them); pip's cache keeps reruns fast.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "lambda_src" / "Dockerfile"
IMAGE_REQUIREMENTS = ROOT / "lambda_src" / "requirements-lambda.txt"
LAYER_REQUIREMENTS = ROOT / "layers" / "control_plane" / "requirements.txt"
MEDIA_STACK = {"av", "pillow", "simplejpeg", "numpy"}
# The image's own runtime client: its base image (provided:al2023) has none, the project never imports it.
IMAGE_ONLY = {"awslambdaric"}

# glibc of each Lambda base image this project could build on (AWS's runtime tables).
BASE_IMAGE_GLIBC = {
    "public.ecr.aws/lambda/provided:al2023": (2, 34),
    "public.ecr.aws/lambda/python:3.11": (2, 26),  # Amazon Linux 2
    "public.ecr.aws/lambda/python:3.12": (2, 34),
    "public.ecr.aws/lambda/python:3.13": (2, 34),
}
LAMBDA_PY311_LAYER_PLATFORMS = ["manylinux2014_x86_64"]  # pip adds manylinux2010 and manylinux1 itself


def _name(requirement: str) -> str:
    """The normalized project name of a requirement (PEP 503), without extras or version."""
    bare = re.split(r"[\[=<>!~ ;]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", bare).lower()


def _pins(lines: list[str]) -> dict[str, str]:
    """name -> requirement, for exact pins only (anything else is reported as unpinned)."""
    pins = {}
    for line in lines:
        requirement = line.split("#", 1)[0].strip()
        if requirement:
            assert "==" in requirement, f"not pinned exactly: {requirement}"
            pins[_name(requirement)] = requirement.replace(" ", "")
    return pins


def _project_pins() -> dict[str, str]:
    return _pins(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])


def _file_pins(path: Path) -> dict[str, str]:
    return _pins(path.read_text().splitlines())


def _base_image() -> str:
    [line] = [line for line in DOCKERFILE.read_text().splitlines() if line.upper().startswith("FROM ")]
    return line.split()[1]


def _image_python() -> str:
    """The Python the image runs handlers with: its ENTRYPOINT interpreter, else the python:<version> tag."""
    match = re.search(r'ENTRYPOINT \["/usr/bin/python(3\.\d+)"', DOCKERFILE.read_text())
    if match:
        return match.group(1)
    return _base_image().rsplit(":", 1)[1]


def _manylinux_platforms(glibc: tuple[int, int], arch: str = "x86_64") -> list[str]:
    """Every manylinux tag a system with this glibc accepts (pip takes --platform values literally)."""
    major, minor = glibc
    return [f"manylinux_{major}_{m}_{arch}" for m in range(minor, 4, -1)] + [f"manylinux2014_{arch}"]


def _pip_download(requirements: list[str], *, platforms: list[str], python_version: str, dest: Path) -> None:
    platform_args = [arg for platform in platforms for arg in ("--platform", platform)]
    abi = "cp" + python_version.replace(".", "")
    command = [
        sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--quiet",
        "--only-binary=:all:", *platform_args, "--python-version", python_version,
        "--implementation", "cp", "--abi", abi, "--dest", str(dest), *requirements,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, f"no wheel for {platforms} / Python {python_version}:\n{result.stderr[-3000:]}"


def test_image_installs_exactly_the_project_dependencies() -> None:
    # Given the image's requirements and the project's runtime dependencies
    image = _file_pins(IMAGE_REQUIREMENTS)
    # Then the image pins the same versions, plus only its runtime client
    assert {name: pin for name, pin in image.items() if name not in IMAGE_ONLY} == _project_pins()
    assert set(image) - set(_project_pins()) == IMAGE_ONLY


def test_layer_carries_the_project_dependencies_without_the_media_stack() -> None:
    layer = _file_pins(LAYER_REQUIREMENTS)
    project = _project_pins()
    assert not set(layer) & MEDIA_STACK
    assert layer == {name: pin for name, pin in project.items() if name not in MEDIA_STACK}


def test_image_base_and_python_are_known() -> None:
    # The download test below derives the image's platform from these; an unknown base must be added here
    assert _base_image() in BASE_IMAGE_GLIBC
    assert _image_python() == "3.11"


@pytest.mark.network
def test_every_image_requirement_has_a_wheel_for_the_image_platform(tmp_path: Path) -> None:
    # Given the image's glibc and Python
    platforms = _manylinux_platforms(BASE_IMAGE_GLIBC[_base_image()])
    # When pip resolves every pinned requirement (and their dependencies) as wheels only
    # Then it succeeds
    _pip_download(
        list(_file_pins(IMAGE_REQUIREMENTS).values()),
        platforms=platforms,
        python_version=_image_python(),
        dest=tmp_path,
    )
    assert {_name(p.name.split("-")[0]) for p in tmp_path.glob("*.whl")} >= set(_file_pins(IMAGE_REQUIREMENTS))


@pytest.mark.network
def test_every_layer_requirement_has_a_wheel_for_lambda_python311(tmp_path: Path) -> None:
    _pip_download(
        list(_file_pins(LAYER_REQUIREMENTS).values()),
        platforms=LAMBDA_PY311_LAYER_PLATFORMS,
        python_version="3.11",
        dest=tmp_path,
    )
    assert {_name(p.name.split("-")[0]) for p in tmp_path.glob("*.whl")} >= set(_file_pins(LAYER_REQUIREMENTS))
