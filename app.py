#!/usr/bin/env python3
"""CDK app entry point: builds the App and the Stillframe stack (see infra/), nothing else."""

import os

# jsii warns on every run about Node 20's end of life; the pinned CDK CLI (package.json) is tested on it.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App  # noqa: E402  (after the environment tweak, which jsii reads at import)

from infra.application import build  # noqa: E402

app = App()
build(app)
app.synth()
