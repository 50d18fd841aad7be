"""The LocalStack build's one asset: the stillframe package plus every runtime wheel, bundled by pip, no Docker."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import infra.bundling
from infra.bundling import (
    UNZIPPED_CODE_LIMIT_BYTES,
    BundlingError,
    SelfContainedBundling,
    function_requirements,
    tree_size,
)
from infra.constructs.packaging import IMAGE_REQUIREMENTS, PACKAGE_DIR

# Stands in for pip: records its arguments and the requirements it was given, installs one small package.
FAKE_PIP = r"""
import json, pathlib, sys
args = sys.argv[1:]
target = pathlib.Path(args[args.index("--target") + 1])
requirements = pathlib.Path(args[args.index("--requirement") + 1]).read_text()
(target / "fakewheel" / "__pycache__").mkdir(parents=True)
(target / "fakewheel" / "__init__.py").write_text("VERSION = 1\n")
(target / "fakewheel" / "__pycache__" / "__init__.cpython-311.pyc").write_bytes(b"stale")
(target.parent / "pip-call.json").write_text(json.dumps({"args": args, "requirements": requirements}))
"""


def _package(root: Path) -> Path:
    package = root / "stillframe"
    (package / "api" / "__pycache__").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "api" / "handler.py").write_text("def lambda_handler(event, context):\n    return None\n")
    (package / "api" / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"compiled")
    return package


def _requirements(root: Path, *extra: str) -> Path:
    path = root / "requirements-lambda.txt"
    path.write_text("\n".join(["# pins", "av==18.1.0", "awslambdaric==4.2.2  # image only", *extra]) + "\n")
    return path


def _bundler(tmp_path: Path, **kwargs: object) -> SelfContainedBundling:
    options: dict[str, object] = {
        "requirements": _requirements(tmp_path),
        "package_dir": _package(tmp_path / "src"),
        "python_version": "3.12",
        "pip": (sys.executable, "-c", FAKE_PIP),
    }
    options.update(kwargs)
    return SelfContainedBundling(**options)  # type: ignore[arg-type]


def test_requirements_are_the_images_pins_without_the_runtime_client() -> None:
    # Given the one pin file of the runtime image
    pinned = [
        line.strip()
        for line in IMAGE_REQUIREMENTS.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    # Then the zip gets every pin but awslambdaric (a managed runtime has its own runtime client)
    assert function_requirements(IMAGE_REQUIREMENTS) == [p for p in pinned if not p.startswith("awslambdaric")]
    assert "av==18.1.0" in function_requirements(IMAGE_REQUIREMENTS)


def test_bundle_is_the_package_and_the_wheels_without_bytecode(tmp_path: Path) -> None:
    # Given the bundler with a stand-in pip
    bundler = _bundler(tmp_path)
    out = tmp_path / "asset"
    out.mkdir()
    # When bundling
    assert bundler.try_bundle(str(out)) is True
    # Then the asset holds the package (its import root is the asset root) and the installed wheels
    assert (out / "stillframe" / "api" / "handler.py").is_file()
    assert (out / "fakewheel" / "__init__.py").is_file()
    # And no bytecode of the synth machine's Python
    assert not list(out.rglob("__pycache__"))
    assert not list(out.rglob("*.pyc"))
    # And pip was asked for the runtime's manylinux_2_28 wheels, binary only, without compiling
    call = json.loads((tmp_path / "pip-call.json").read_text())
    joined = " ".join(call["args"])
    assert "--platform manylinux_2_28_x86_64" in joined
    assert "--python-version 3.12" in joined
    assert "--implementation cp" in joined
    assert "--only-binary=:all:" in call["args"]
    assert "--no-compile" in call["args"]
    # And for the pins minus awslambdaric
    assert call["requirements"].split() == ["av==18.1.0"]


def test_a_bundle_over_lambdas_unzipped_limit_stops_the_synth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert UNZIPPED_CODE_LIMIT_BYTES == 262_144_000
    monkeypatch.setattr(infra.bundling, "UNZIPPED_CODE_LIMIT_BYTES", 10)
    with pytest.raises(BundlingError, match="unzipped"):
        _bundler(tmp_path).try_bundle(str(tmp_path / "asset"))


def test_pip_failure_stops_the_synth_and_a_missing_pip_falls_back(tmp_path: Path) -> None:
    failing = _bundler(tmp_path, pip=(sys.executable, "-c", "import sys; sys.exit('no matching distribution')"))
    with pytest.raises(BundlingError, match="no matching distribution"):
        failing.try_bundle(str(tmp_path / "a"))
    missing = SelfContainedBundling(**{**vars(failing), "pip": (str(tmp_path / "no-such-python"), "-m", "pip")})
    assert missing.try_bundle(str(tmp_path / "b")) is False


def test_fingerprint_follows_the_sources_the_pins_and_the_target(tmp_path: Path) -> None:
    # Given a bundler and its fingerprint (CDK's asset hash: a staged bundle of that hash is reused)
    bundler = _bundler(tmp_path)
    first = bundler.fingerprint()
    # Then it is stable, and bytecode does not count
    (bundler.package_dir / "__pycache__").mkdir()
    (bundler.package_dir / "__pycache__" / "new.pyc").write_bytes(b"x")
    assert bundler.fingerprint() == first
    # And another Python, another pin or a changed source file re-bundles
    assert SelfContainedBundling(**{**vars(bundler), "python_version": "3.11"}).fingerprint() != first
    _requirements(tmp_path, "numpy==2.4.6")
    assert bundler.fingerprint() != first
    _requirements(tmp_path)
    assert bundler.fingerprint() == first
    (bundler.package_dir / "api" / "handler.py").write_text("# changed\n")
    assert bundler.fingerprint() != first


@pytest.mark.network
def test_real_bundle_fits_lambda_and_imports_without_the_venv(tmp_path: Path) -> None:
    # Given the real package and pins, bundled for python3.11 as `cdk synth -c localstack=true` does
    bundler = SelfContainedBundling(requirements=IMAGE_REQUIREMENTS, package_dir=PACKAGE_DIR, python_version="3.11")
    asset = tmp_path / "asset"
    assert bundler.try_bundle(str(asset)) is True
    # Then it fits Lambda's unzipped limit
    size = tree_size(asset)
    print(f"self-contained asset: {size:,} bytes unzipped")
    assert size < UNZIPPED_CODE_LIMIT_BYTES
    assert not (asset / "awslambdaric").exists()
    # And this machine's Python imports PyAV and both handlers from the asset alone (-S: no site-packages)
    probe = "import av, stillframe.handlers.api, stillframe.handlers.dropzone; print(av.__file__)"
    completed = subprocess.run(
        [sys.executable, "-S", "-c", probe],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(asset)},
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.strip().startswith(str(asset))
