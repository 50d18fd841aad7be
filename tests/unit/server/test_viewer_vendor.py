"""The viewer's vendored hls.js: pinned in tools/viewer-vendor, shipped in the Python package, served by serve.

`make viewer-vendor` copies it from npm; these tests catch a copy edited by hand, a pin bumped without a new copy,
and a file left out of the package data (the viewer must play video with no network).
"""

from __future__ import annotations

import fnmatch
import json
import tomllib
from importlib import resources
from typing import Any

import pytest

from stillframe.server.site import VIEWER_FILES, with_site
from tests.conftest import ROOT

PINS = ROOT / "tools" / "viewer-vendor"
INSTALLED = PINS / "node_modules" / "hls.js"
VENDORED = resources.files("stillframe.viewer").joinpath("vendor")


def pinned_version() -> str:
    wanted = json.loads((PINS / "package.json").read_text())["dependencies"]["hls.js"]
    locked = json.loads((PINS / "package-lock.json").read_text())["packages"]["node_modules/hls.js"]["version"]
    assert wanted == locked, "package.json and package-lock.json disagree: run npm install in tools/viewer-vendor"
    return str(wanted)


def test_the_vendored_copy_is_the_pinned_version_with_its_license() -> None:
    version = pinned_version()
    assert VENDORED.joinpath("VERSIONS").read_text().split() == ["hls.js", version]
    assert f'="{version}"'.encode() in VENDORED.joinpath("hls.min.js").read_bytes()  # hls.js's own Hls.version
    assert "Apache License" in VENDORED.joinpath("hls.js.LICENSE").read_text()


@pytest.mark.skipif(
    not INSTALLED.is_dir(), reason="tools/viewer-vendor/node_modules is missing (make test installs it)"
)
def test_the_vendored_files_are_byte_identical_to_the_npm_package() -> None:
    assert json.loads((INSTALLED / "package.json").read_text())["version"] == pinned_version()
    assert VENDORED.joinpath("hls.min.js").read_bytes() == (INSTALLED / "dist" / "hls.min.js").read_bytes()
    assert VENDORED.joinpath("hls.js.LICENSE").read_bytes() == (INSTALLED / "LICENSE").read_bytes()


def test_every_viewer_file_is_package_data() -> None:
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    viewer = ROOT / "lambda_src" / "stillframe" / "viewer"
    shipped = [
        path.relative_to(viewer).as_posix()
        for path in viewer.rglob("*")
        if path.is_file() and path.suffix != ".py" and "__pycache__" not in path.parts
    ]
    assert "vendor/hls.min.js" in shipped
    for name in shipped:
        assert any(fnmatch.fnmatch(name, glob) for glob in globs["stillframe.viewer"]), name


def test_serve_answers_the_player_as_javascript() -> None:
    def api(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise AssertionError("the viewer's files never reach the API")

    site = with_site(api, store="local")
    answer = site({"httpMethod": "GET", "path": "/viewer/vendor/hls.min.js"}, None)
    assert answer["statusCode"] == 200 and answer["headers"]["Content-Type"].startswith("text/javascript")
    assert answer["body"] == VENDORED.joinpath("hls.min.js").read_text(encoding="utf-8")
    assert {"/viewer/playback.js", "/viewer/vendor/hls.min.js"} <= set(VIEWER_FILES)
