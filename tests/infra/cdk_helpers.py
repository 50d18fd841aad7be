"""Helpers for the CDK tests: apps configured like `cdk synth`, and the synthesized Stillframe stack."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# jsii reads this when aws_cdk is first imported (it starts the Node process then).
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App
from aws_cdk.assertions import Template

ROOT = Path(__file__).resolve().parents[2]


def cdk_json_context() -> dict[str, Any]:
    """The context of cdk.json (feature flags and Stillframe defaults), as `cdk synth` would see it."""
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
    return context


def make_app(outdir: Path, **context: Any) -> App:
    """An App like `cdk synth` builds, plus extra context, without bundling (no pip run per test)."""
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
