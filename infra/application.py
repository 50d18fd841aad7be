"""Builds the CDK app's content: the Stillframe stack from context settings, checked by cdk-nag.

``app.py`` and the tests share this, so the tests synthesize exactly what ``cdk deploy`` would.
"""

from __future__ import annotations

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from infra.config import StillframeConfig
from infra.stacks.stillframe_stack import StillframeStack


def build(app: App) -> StillframeStack:
    """Add the stack (settings from ``app``'s context) and the compliance checks, which run at synth."""
    config = StillframeConfig.from_context(app.node)
    stack = StillframeStack(app, config.stack_name, config=config)
    add_compliance_checks(app)
    return stack


def add_compliance_checks(app: App) -> None:
    """cdk-nag's AwsSolutions pack: any unacknowledged finding, error or warning, fails the synth."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
