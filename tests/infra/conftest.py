"""Fixtures for the CDK tests: the whole stack synthesized once per session, and bare stacks per construct.

No test needs Docker or AWS: the image asset is only staged, and layer bundling (pip) is switched off
here (``aws:cdk:bundling-stacks``); tests/infra/test_control_plane_layer.py runs the bundler itself.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App, Stack  # noqa: E402  (jsii reads the variable above at import)
from aws_cdk.assertions import Template  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def cdk_json_context() -> dict[str, Any]:
    """The context of cdk.json (feature flags and Stillframe defaults), as `cdk synth` would see it."""
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
    return context


def make_app(outdir: Path, **context: Any) -> App:
    """An App like `cdk synth` builds, plus extra context, without bundling."""
    return App(outdir=str(outdir), context={**cdk_json_context(), "aws:cdk:bundling-stacks": [], **context})


@dataclass
class Synthesized:
    """The Stillframe stack after one synth: its template, cloud assembly directory and any synth error."""

    stack: Any
    template: Template
    outdir: Path
    error: Exception | None

    def resources(self, resource_type: str) -> dict[str, Any]:
        found: dict[str, Any] = self.template.find_resources(resource_type)
        return found


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """Build the app exactly as app.py does (cdk-nag included) and synthesize it once."""
    from infra.application import build

    outdir = tmp_path_factory.mktemp("cdk.out")
    app = make_app(outdir)
    stack = build(app)
    error: Exception | None = None
    try:
        app.synth()
    except RuntimeError as exc:  # cdk-nag violations fail validation; the template is written anyway
        error = exc
    template = Template.from_json(json.loads((outdir / f"{stack.stack_name}.template.json").read_text()))
    return Synthesized(stack=stack, template=template, outdir=outdir, error=error)


@pytest.fixture
def bare_stack(tmp_path: Path) -> Callable[..., Stack]:
    """A factory of empty stacks in a fresh app, for testing one construct alone."""

    def make(**context: Any) -> Stack:
        return Stack(make_app(tmp_path, **context), "Bare")

    return make
