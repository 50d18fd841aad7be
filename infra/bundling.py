"""Local (Docker-free) bundling of Lambda code: pip installs Linux wheels for the Lambda runtime.

pip can fetch wheels for another platform (``--platform ... --only-binary=:all:``), so a layer for
Lambda's x86_64 Python 3.11 runtime builds on any machine with Python and network to PyPI, no Docker.
The same goes for the self-contained zip of the LocalStack build (the package plus every runtime wheel).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import ILocalBundling

logger = logging.getLogger(__name__)

# Lambda's python3.11 runtime runs on Amazon Linux 2 (glibc 2.26): manylinux2014 is the newest tag it accepts.
LAMBDA_PY311_PLATFORM = "manylinux2014_x86_64"
LAMBDA_PY311_VERSION = "3.11"
# PyAV 18 publishes only manylinux_2_28 wheels, hence the runtime image; a self-contained zip needs a
# runtime on glibc >= 2.28 (LocalStack's host executor, or the python3.12 image of its docker executor).
SELF_CONTAINED_PLATFORM = "manylinux_2_28_x86_64"
# Lambda's (and LocalStack's) limit on a function's unzipped code, layers included.
UNZIPPED_CODE_LIMIT_BYTES = 262_144_000
# The runtime image's own Lambda runtime client; a zip function's managed runtime brings its own.
IMAGE_ONLY_REQUIREMENTS = frozenset({"awslambdaric"})
# Bump to re-bundle every self-contained asset when the bundling itself changes (it is part of the hash).
SELF_CONTAINED_BUNDLING_VERSION = "2"
# pip matches --platform literally: a glibc 2.28 target also takes manylinux2014 (glibc 2.17) wheels, which some
# pins publish only (pydantic-core), so that older tag is asked for too.
_OLDER_COMPATIBLE_PLATFORMS = {"manylinux_2_28_x86_64": ("manylinux2014_x86_64",)}


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
        *(arg for tag in (platform, *_OLDER_COMPATIBLE_PLATFORMS.get(platform, ())) for arg in ("--platform", tag)),
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
        return _run_pip(command, requirements=self.requirements, pip=self.pip)


@jsii.implements(ILocalBundling)
class SelfContainedBundling:
    """ILocalBundling of a zip that needs no layer: ``package_dir`` plus the wheels of ``requirements``.

    The requirements are those of the runtime image (``requirements-lambda.txt``) minus the image-only
    ones, so the zip and the image run the same pinned versions. ``__pycache__`` is stripped (pip is told
    not to compile: the bytecode would be the synth machine's, not the runtime's), and the result must fit
    Lambda's unzipped-code limit.
    """

    def __init__(
        self,
        *,
        requirements: Path,
        package_dir: Path,
        python_version: str,
        platform: str = SELF_CONTAINED_PLATFORM,
        pip: Sequence[str] = (sys.executable, "-m", "pip"),
    ) -> None:
        self.requirements = requirements
        self.package_dir = package_dir
        self.python_version = python_version
        self.platform = platform
        self.pip = tuple(pip)

    def try_bundle(self, output_dir: str, *_args: Any, **_options: Any) -> bool:
        """Install the wheels and copy the package; False (Docker fallback) only when pip cannot start."""
        output = Path(output_dir)
        with tempfile.TemporaryDirectory(prefix="stillframe-requirements-") as scratch:
            requirements = Path(scratch) / "requirements.txt"
            requirements.write_text("\n".join(function_requirements(self.requirements)) + "\n")
            command = pip_target_command(
                requirements=requirements,
                target=output,
                platform=self.platform,
                python_version=self.python_version,
                pip=self.pip,
            )
            logger.info("bundling self-contained code locally", extra={"target": output_dir})
            if not _run_pip([*command, "--no-compile"], requirements=self.requirements, pip=self.pip):
                return False
        shutil.copytree(self.package_dir, output / self.package_dir.name, ignore=_ignore_bytecode)
        for cache in list(output.rglob("__pycache__")):
            shutil.rmtree(cache)
        size = tree_size(output)
        logger.info("self-contained code bundled", extra={"target": output_dir, "unzipped_bytes": size})
        if size > UNZIPPED_CODE_LIMIT_BYTES:
            raise BundlingError(
                f"self-contained code is {size:,} bytes unzipped, over Lambda's {UNZIPPED_CODE_LIMIT_BYTES:,}"
            )
        return True

    def fingerprint(self) -> str:
        """A hash of everything the bundle is made from, for CDK's custom asset hash.

        CDK skips bundling when an asset of that hash is already staged, so an unchanged re-synth does not
        run pip again, and any change to the package, the pins, the target or this bundler re-bundles.
        """
        digest = hashlib.sha256()
        requirements = function_requirements(self.requirements)
        for part in (SELF_CONTAINED_BUNDLING_VERSION, self.platform, self.python_version, *requirements):
            digest.update(part.encode() + b"\0")
        for path in _package_files(self.package_dir):
            digest.update(path.relative_to(self.package_dir).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        return digest.hexdigest()


def function_requirements(requirements: Path) -> list[str]:
    """The requirement lines of a pin file (comments and blanks dropped), without the image-only ones."""
    lines = []
    for raw in requirements.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        name = line.split("[", 1)[0].split("=", 1)[0].split("<", 1)[0].split(">", 1)[0].strip().lower()
        if line and name not in IMAGE_ONLY_REQUIREMENTS:
            lines.append(line)
    return lines


def tree_size(root: Path) -> int:
    """Bytes of every regular file below ``root``: what the function's code occupies once unzipped."""
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file() and not path.is_symlink())


def _run_pip(command: list[str], *, requirements: Path, pip: Sequence[str]) -> bool:
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError:
        logger.warning("pip unavailable, falling back to Docker bundling", extra={"pip": tuple(pip)})
        return False
    if result.returncode != 0:
        raise BundlingError(f"pip could not bundle {requirements}: {result.stderr.strip()[-2000:]}")
    return True


def _package_files(package_dir: Path) -> Iterator[Path]:
    for path in sorted(package_dir.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            yield path


def _ignore_bytecode(_directory: str, names: list[str]) -> set[str]:
    return {name for name in names if name == "__pycache__" or name.endswith(".pyc")}
