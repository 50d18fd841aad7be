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

    def violations(self) -> list[str]:
        """Every unacknowledged cdk-nag finding, as ``<rule> at <construct path>``."""
        report_file = self.outdir / "validation-report.json"
        report = json.loads(report_file.read_text()) if report_file.exists() else {"pluginReports": []}
        return [
            f"{v['ruleName']} at {c['constructPath']}"
            for plugin in report["pluginReports"]
            for v in plugin["violations"]
            for c in v["violatingConstructs"]
        ]

    def acknowledged_rules(self, construct: Any) -> set[str]:
        """The cdk-nag rule ids acknowledged on one construct (as the cloud assembly records them)."""
        metadata = json.loads((self.outdir / f"{self.stack.stack_name}.metadata.json").read_text())
        entries = metadata.get("/" + construct.node.path, [])
        return {
            rule.removeprefix("Annotation::")
            for entry in entries
            if entry["type"] == "aws:cdk:acknowledged-rules"
            for rule in entry["data"]
        }


def synthesize_app(outdir: Path, **context: Any) -> Synthesized:
    """Build the app exactly as app.py does (cdk-nag included) with extra context, and synthesize it."""
    from infra.application import build

    app = make_app(outdir, **context)
    stack = build(app)
    error: Exception | None = None
    try:
        app.synth()
    except RuntimeError as exc:  # cdk-nag violations fail validation; the template is written anyway
        error = exc
    template = Template.from_json(json.loads((outdir / f"{stack.stack_name}.template.json").read_text()))
    return Synthesized(stack=stack, template=template, outdir=outdir, error=error)
