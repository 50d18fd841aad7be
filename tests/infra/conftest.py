"""Fixtures for the CDK tests: the whole stack synthesized once per session, and bare stacks per construct.

No test needs Docker or AWS: the image asset is only staged, and layer bundling (pip) is switched off
(``aws:cdk:bundling-stacks``); tests/infra/test_control_plane_layer.py runs the bundler itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

# jsii reads this when aws_cdk is first imported (it starts the Node process then).
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import pytest
from aws_cdk import Stack

from tests.infra.cdk_helpers import Synthesized, make_app, synthesize_app


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """Build the app exactly as app.py does (cdk-nag included) and synthesize it once."""
    return synthesize_app(tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture(scope="session")
def synthesize(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Synthesized]:
    """Synthesize the whole app with extra context (once per distinct context in the session)."""
    cache: dict[tuple[tuple[str, Any], ...], Synthesized] = {}

    def synth(**context: Any) -> Synthesized:
        key = tuple(sorted(context.items()))
        if key not in cache:
            cache[key] = synthesize_app(tmp_path_factory.mktemp("cdk.out"), **context)
        return cache[key]

    return synth


@pytest.fixture
def bare_stack(tmp_path: Path) -> Callable[..., Stack]:
    """A factory of empty stacks in a fresh app, for testing one construct alone."""

    def make(**context: Any) -> Stack:
        return Stack(make_app(tmp_path, **context), "Bare")

    return make
