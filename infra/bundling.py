"""Local (Docker-free) bundling of a Lambda layer: pip installs Linux wheels for the Lambda runtime.

pip can fetch wheels for another platform (``--platform ... --only-binary=:all:``), so a layer for
Lambda's x86_64 Python 3.11 runtime builds on any machine with Python and network to PyPI, no Docker.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import ILocalBundling

logger = logging.getLogger(__name__)

# Lambda's python3.11 runtime runs on Amazon Linux 2 (glibc 2.26): manylinux2014 is the newest tag it accepts.
LAMBDA_PY311_PLATFORM = "manylinux2014_x86_64"
LAMBDA_PY311_VERSION = "3.11"


class BundlingError(RuntimeError):
    """pip could not install the layer's requirements for the Lambda platform."""


def pip_target_command(
    *, requirements: Path, target: Path, platform: str, python_version: str, pip: Sequence[str]
) -> list[str]:
    """The pip command that installs ``requirements`` into ``target`` as wheels for the given platform."""
    abi = "cp" + python_version.replace(".", "")
    return [
        *pip,
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--quiet",
        "--requirement",
        str(requirements),
        "--target",
        str(target),
        "--platform",
        platform,
        "--python-version",
        python_version,
        "--implementation",
        "cp",
        "--abi",
        abi,
        "--only-binary=:all:",
        "--upgrade",
    ]


@jsii.implements(ILocalBundling)
class PipLayerBundling:
    """ILocalBundling that fills ``<output>/python`` (a layer's import root) with the requirements' wheels."""

    def __init__(
        self,
        *,
        requirements: Path,
        platform: str = LAMBDA_PY311_PLATFORM,
        python_version: str = LAMBDA_PY311_VERSION,
        pip: Sequence[str] = (sys.executable, "-m", "pip"),
    ) -> None:
        self.requirements = requirements
        self.platform = platform
        self.python_version = python_version
        self.pip = tuple(pip)

    def try_bundle(self, output_dir: str, *_args: Any, **_options: Any) -> bool:
        """Install the wheels; False (fall back to Docker) only when pip itself cannot be started."""
        command = pip_target_command(
            requirements=self.requirements,
            target=Path(output_dir) / "python",
            platform=self.platform,
            python_version=self.python_version,
            pip=self.pip,
        )
        logger.info("bundling layer locally", extra={"requirements": str(self.requirements), "target": output_dir})
        try:
            result = subprocess.run(command, capture_output=True, text=True, check=False)
        except OSError:
            logger.warning("pip unavailable, falling back to Docker bundling", extra={"pip": self.pip})
            return False
        if result.returncode != 0:
            raise BundlingError(f"pip could not bundle {self.requirements}: {result.stderr.strip()[-2000:]}")
        return True
