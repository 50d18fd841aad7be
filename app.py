#!/usr/bin/env python3
"""CDK app entry point: builds the App and the Stillframe stack (see infra/), nothing else."""

import os

# jsii warns on every run about Node 20's end of life; it reads this when aws_cdk is first imported.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App

from infra.application import build

app = App()
build(app)
app.synth()
