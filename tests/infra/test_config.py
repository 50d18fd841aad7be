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
    assert config.auth_mode == "iam"
    assert config.localstack is False
    assert config.localstack_runtime == "python3.11"


def test_cli_strings_are_parsed(bare_stack: Callable[..., Stack]) -> None:
    # Given values as `cdk deploy -c retentionDays=14 -c mediaReservedConcurrency=10` passes them (strings)
    stack = bare_stack(retentionDays="14", mediaReservedConcurrency="10", keyPrefix="tenant-a/", logRetentionDays="90")
    config = StillframeConfig.from_context(stack.node)
    assert config.retention_days == 14
    assert config.media_reserved_concurrency == 10
    assert config.key_prefix == "tenant-a/"
    assert config.log_retention_days == 90


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("True", True), ("false", False), (True, True)])
def test_localstack_flag_accepts_cli_strings_and_json_booleans(
    bare_stack: Callable[..., Stack], raw: object, expected: bool
) -> None:
    config = StillframeConfig.from_context(bare_stack(localstack=raw, localstackRuntime="python3.12").node)
    assert config.localstack is expected
    assert config.localstack_runtime == "python3.12"


def test_auth_mode_keys_is_parsed(bare_stack: Callable[..., Stack]) -> None:
    config = StillframeConfig.from_context(bare_stack(authMode="keys").node)
    assert config.auth_mode == "keys"
    assert config.keys_auth


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
        ("authMode", "cognito", "authMode must be one of iam, keys"),
        ("localstack", "maybe", "localstack must be true or false"),
        ("localstackRuntime", "python3.9", "localstackRuntime"),
        ("imageDeliveryBuckets", "s3://images/cam", "imageDeliveryBuckets"),
        ("imageDeliveryBuckets", "Images", "imageDeliveryBuckets"),
        ("imageDeliveryBuckets", "ok-bucket,a", "imageDeliveryBuckets"),
        ("imageDeliveryBuckets", '["unclosed"', "imageDeliveryBuckets"),
        ("imageDeliveryBuckets", '{"a": 1}', "imageDeliveryBuckets"),
        ("putMediaEndpoint", "http://cams.example.net", "putMediaEndpoint must be an https:// URL"),
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
        "authMode": "auth_mode",
        "localstack": "localstack",
        "localstackRuntime": "localstack_runtime",
    }
    assert {key: context[key] for key in names} == {key: defaults[field] for key, field in names.items()}
    assert context["imageDeliveryBuckets"] == list(defaults["image_delivery_buckets"]) == []


@pytest.mark.parametrize(
    "raw",
    ["images-a,images-b", " images-a , images-b,images-a ", '["images-a", "images-b"]', ["images-a", "images-b"]],
)
def test_image_delivery_buckets_come_as_a_list_or_comma_separated(
    bare_stack: Callable[..., Stack], raw: object
) -> None:
    # Given the buckets from the CLI (a string) or from cdk.json (a JSON list), When the config is read
    config = StillframeConfig.from_context(bare_stack(imageDeliveryBuckets=raw).node)
    # Then they are the same names, in order, once each
    assert config.image_delivery_buckets == ("images-a", "images-b")


def test_no_image_delivery_buckets_by_default(tmp_path: Path) -> None:
    assert StillframeConfig.from_context(App(outdir=str(tmp_path)).node).image_delivery_buckets == ()
    assert StillframeConfig(image_delivery_buckets=()).image_delivery_buckets == ()


@pytest.mark.parametrize("stack_name", ["Stillframe_Test", "-stillframe", "s" * 28])
def test_localstack_build_needs_a_stack_name_that_fits_a_bucket_name(
    bare_stack: Callable[..., Stack], stack_name: str
) -> None:
    # The LocalStack build names the media bucket "<stack name>-media-<account>-<region>"
    stack = bare_stack(localstack="true", stackName=stack_name)
    with pytest.raises(ConfigError, match="stackName"):
        StillframeConfig.from_context(stack.node)


def test_the_deployed_stack_keeps_any_stack_name(bare_stack: Callable[..., Stack]) -> None:
    assert StillframeConfig.from_context(bare_stack(stackName="Stillframe_Test").node).stack_name == "Stillframe_Test"
