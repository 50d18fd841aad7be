"""StillframeConfig: context values (from cdk.json or `-c key=value`) parsed and validated before synth."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import pytest
from aws_cdk import App, Stack

from infra.config import ConfigError, StillframeConfig
from tests.infra.cdk_helpers import ROOT


def test_defaults_apply_without_context(tmp_path: Path) -> None:
    # Given an app with no context at all (not even cdk.json's)
    app = App(outdir=str(tmp_path))
    config = StillframeConfig.from_context(app.node)
    assert config.retention_days == 7
    assert config.stage_name == "v1"
    assert config.media_reserved_concurrency is None
    assert config.alarm_topic_arn is None


def test_cli_strings_are_parsed(bare_stack: Callable[..., Stack]) -> None:
    # Given values as `cdk deploy -c retentionDays=14 -c mediaReservedConcurrency=10` passes them (strings)
    stack = bare_stack(retentionDays="14", mediaReservedConcurrency="10", keyPrefix="tenant-a/", logRetentionDays="90")
    config = StillframeConfig.from_context(stack.node)
    assert config.retention_days == 14
    assert config.media_reserved_concurrency == 10
    assert config.key_prefix == "tenant-a/"
    assert config.log_retention_days == 90


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("retentionDays", "0", "retentionDays"),
        ("retentionDays", "a week", "retentionDays must be an integer"),
        ("keyPrefix", "tenant-a", "keyPrefix"),
        ("keyPrefix", "/tenant-a/", "keyPrefix"),
        ("stageName", "v1/beta", "stageName"),
        ("mediaMemoryMb", "20000", "mediaMemoryMb"),
        ("mediaReservedConcurrency", "0", "mediaReservedConcurrency"),
        ("logRetentionDays", "45", "logRetentionDays"),
    ],
)
def test_bad_values_stop_the_synth_with_the_key_named(
    bare_stack: Callable[..., Stack], key: str, value: str, message: str
) -> None:
    stack = bare_stack(**{key: value})
    with pytest.raises(ConfigError, match=message):
        StillframeConfig.from_context(stack.node)


def test_cdk_json_states_the_same_defaults_as_the_code() -> None:
    # cdk.json lists the settings for discoverability; drift would make docs and behaviour disagree
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    defaults = asdict(StillframeConfig())
    names = {
        "stackName": "stack_name",
        "retentionDays": "retention_days",
        "keyPrefix": "key_prefix",
        "stageName": "stage_name",
        "throttleRateLimit": "throttle_rate_limit",
        "throttleBurstLimit": "throttle_burst_limit",
        "mediaMemoryMb": "media_memory_mb",
        "logRetentionDays": "log_retention_days",
    }
    assert {key: context[key] for key in names} == {key: defaults[field] for key, field in names.items()}
