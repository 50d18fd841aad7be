"""The LocalStack build (``-c localstack=true``): the same stack, but zip functions and a native drop-zone trigger.

The flag may change only how the functions are packaged and how the drop-zone trigger is made; everything a
client or an operator meets (API, gateway responses, bucket, secrets, DLQ, alarms, grants, outputs, env vars,
memory, timeouts) must stay the same. These tests synthesize without bundling (no pip run); the bundle itself
is tested in test_self_contained_bundling.py.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.infra.cdk_helpers import Synthesized

# What the CLI adds to every synth: construct paths (they must match too) and the assets' metadata.
CLI_METADATA = {"aws:cdk:enable-path-metadata": True, "aws:cdk:enable-asset-metadata": True}
PACKAGING_PROPERTIES = ("Code", "PackageType", "ImageConfig", "Runtime", "Handler", "Layers")
# CDK's custom resource for bucket notifications, its singleton handler and that handler's role and policy.
CUSTOM_TRIGGER_PARTS = re.compile(r"^(StorageBucketNotifications|BucketNotificationsHandler)")
Synthesize = Callable[..., Synthesized]


def _template(synthesized: Synthesized) -> dict[str, Any]:
    template: dict[str, Any] = copy.deepcopy(synthesized.template.to_json())
    return template


def _as_text(value: Any) -> Any:
    """Refs, GetAtts and plain joins written as ``${...}`` strings, so that equal values compare equal."""
    if isinstance(value, list):
        return [_as_text(item) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        return "${" + value["Ref"] + "}"
    if set(value) == {"Fn::GetAtt"}:
        return "${" + ".".join(value["Fn::GetAtt"]) + "}"
    if set(value) == {"Fn::Join"} and value["Fn::Join"][0] == "":
        parts = [_as_text(part) for part in value["Fn::Join"][1]]
        if all(isinstance(part, str) for part in parts):
            return "".join(parts)
    return {key: _as_text(item) for key, item in value.items()}


def _bucket_s3_permission(resources: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    [(logical_id, permission)] = [
        (logical_id, resource)
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Lambda::Permission" and resource["Properties"]["Principal"] == "s3.amazonaws.com"
    ]
    return logical_id, permission


def _take_custom_resource_trigger(template: dict[str, Any]) -> dict[str, Any]:
    """Remove the deployed stack's drop-zone trigger (custom resource + permission) and describe it."""
    resources = template["Resources"]
    [notifications] = [r for r in resources.values() if r["Type"] == "Custom::S3BucketNotifications"]
    [config] = notifications["Properties"]["NotificationConfiguration"]["LambdaFunctionConfigurations"]
    permission_id, permission = _bucket_s3_permission(resources)
    for logical_id in [permission_id, *(i for i in resources if CUSTOM_TRIGGER_PARTS.match(i))]:
        del resources[logical_id]
    [rule] = config["Filter"]["Key"]["FilterRules"]
    return {
        "events": config["Events"],
        "prefix": rule["Value"],
        "function": config["LambdaFunctionArn"],
        "permission": permission["Properties"],
    }


def _take_native_trigger(template: dict[str, Any], bucket_id: str) -> dict[str, Any]:
    """Remove the LocalStack build's trigger (the bucket's own configuration + permission) and describe it."""
    resources = template["Resources"]
    bucket = resources[bucket_id]
    permission_id, permission = _bucket_s3_permission(resources)
    # The bucket is created after the permission: S3 checks that it may invoke the function.
    assert bucket.pop("DependsOn") == [permission_id]
    [config] = bucket["Properties"].pop("NotificationConfiguration")["LambdaConfigurations"]
    del resources[permission_id]
    [rule] = config["Filter"]["S3Key"]["Rules"]
    assert rule["Name"] == "prefix"
    return {
        "events": [config["Event"]],
        "prefix": rule["Value"],
        "function": config["Function"],
        "permission": permission["Properties"],
    }


def _without_packaging(template: dict[str, Any]) -> dict[str, Any]:
    resources = template["Resources"]
    for logical_id, resource in list(resources.items()):
        if resource["Type"] == "AWS::Lambda::LayerVersion":
            del resources[logical_id]
            continue
        if resource["Type"] == "AWS::Lambda::Function":
            for name in PACKAGING_PROPERTIES:
                resource["Properties"].pop(name, None)
        metadata = resource.get("Metadata", {})
        for key in [k for k in metadata if k.startswith("aws:asset:")]:
            del metadata[key]
    return template


def _by_name_to_ref(template: dict[str, Any], bucket_id: str, bucket_name: str) -> dict[str, Any]:
    """Write the LocalStack build's by-name references to the bucket as the Ref/GetAtt the deployed stack has."""
    text = json.dumps(_as_text(template))
    text = text.replace(f"arn:${{AWS::Partition}}:s3:::{bucket_name}", f"${{{bucket_id}.Arn}}")
    text = text.replace(bucket_name, f"${{{bucket_id}}}")
    result: dict[str, Any] = json.loads(text)
    return result


def _compare(deployed: Synthesized, localstack: Synthesized) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both templates with the expected differences taken out (each asserted), ready to compare as a whole."""
    bucket_id = deployed.stack.get_logical_id(deployed.stack.storage.bucket.node.default_child)
    ours, theirs = _template(deployed), _template(localstack)
    # The LocalStack build names the bucket (so that functions need no Ref to it), from pseudo parameters only
    bucket_name = _as_text(theirs["Resources"][bucket_id]["Properties"].pop("BucketName"))
    assert bucket_name == "stillframe-media-${AWS::AccountId}-${AWS::Region}"
    assert "BucketName" not in ours["Resources"][bucket_id]["Properties"]
    # And the drop-zone trigger is the same trigger, made two ways
    custom = _take_custom_resource_trigger(ours)
    native = _take_native_trigger(theirs, bucket_id)
    custom["permission"]["SourceArn"] = f"arn:${{AWS::Partition}}:s3:::{bucket_name}"
    assert _as_text(native) == _as_text(custom)
    ours = json.loads(json.dumps(_as_text(_without_packaging(ours))))
    theirs = _by_name_to_ref(_without_packaging(theirs), bucket_id, bucket_name)
    return ours, theirs


def _assert_same_resources(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    assert set(theirs["Resources"]) == set(ours["Resources"])
    for logical_id, resource in ours["Resources"].items():
        assert theirs["Resources"][logical_id] == resource, logical_id
    for section in ("Outputs", "Parameters", "Rules", "Conditions"):
        assert theirs.get(section) == ours.get(section), section


def test_the_flag_changes_nothing_but_packaging_and_the_trigger(synthesize: Synthesize) -> None:
    # Given the deployed stack and the LocalStack build, synthesized as the CLI does
    deployed = synthesize(**CLI_METADATA)
    localstack = synthesize(localstack="true", **CLI_METADATA)
    # When the packaging properties, the layer and the drop-zone trigger are taken out (each checked above)
    ours, theirs = _compare(deployed, localstack)
    # Then every resource, output and parameter is the same, resource by resource
    _assert_same_resources(ours, theirs)


def test_with_keys_auth_the_build_differs_only_by_the_key_cache_setting(synthesize: Synthesize) -> None:
    deployed = synthesize(authMode="keys", **CLI_METADATA)
    localstack = synthesize(authMode="keys", localstack="true", **CLI_METADATA)
    ours, theirs = _compare(deployed, localstack)
    # The LocalStack build re-reads the key store every 5 s, so a test's `stillframe keys` takes effect quickly
    for function in (localstack.stack.control_plane.function, localstack.stack.media.function):
        logical_id = localstack.stack.get_logical_id(function.node.default_child)
        variables = theirs["Resources"][logical_id]["Properties"]["Environment"]["Variables"]
        assert variables.pop("STILLFRAME_KEYS_CACHE_SECONDS") == "5"
    _assert_same_resources(ours, theirs)


def test_every_function_is_a_zip_of_one_shared_asset_without_layers(synthesize: Synthesize) -> None:
    localstack = synthesize(localstack="true")
    stack = localstack.stack
    functions = localstack.resources("AWS::Lambda::Function")
    props = {
        name: functions[stack.get_logical_id(construct.function.node.default_child)]["Properties"]
        for name, construct in (
            ("control", stack.control_plane),
            ("media", stack.media),
            ("ingest", stack.ingest),
            ("delivery", stack.delivery),
        )
    }
    assert {p["Runtime"] for p in props.values()} == {"python3.11"}
    assert props["control"]["Handler"] == props["media"]["Handler"] == "stillframe.handlers.api.lambda_handler"
    assert props["ingest"]["Handler"] == "stillframe.handlers.dropzone.lambda_handler"
    assert props["delivery"]["Handler"] == "stillframe.handlers.delivery.lambda_handler"
    assert len({json.dumps(p["Code"]) for p in props.values()}) == 1
    assert all("PackageType" not in p and "Layers" not in p for p in props.values())
    # And no layer, no image: community LocalStack applies neither
    assert localstack.resources("AWS::Lambda::LayerVersion") == {}
    manifest = json.loads((localstack.outdir / f"{stack.stack_name}.assets.json").read_text())
    assert manifest.get("dockerImages", {}) == {}
    assert stack.control_plane_layer is None


def test_the_runtime_comes_from_localstack_runtime(synthesize: Synthesize) -> None:
    localstack = synthesize(localstack="true", localstackRuntime="python3.12")
    runtimes = {f["Properties"]["Runtime"] for f in localstack.resources("AWS::Lambda::Function").values()}
    assert runtimes == {"python3.12"}
    assert localstack.violations() == []


def test_nothing_is_left_to_a_custom_resource(synthesize: Synthesize) -> None:
    # Community LocalStack skips custom resources with a warning: nothing of the build may depend on one
    types = {r["Type"] for r in synthesize(localstack="true").template.to_json()["Resources"].values()}
    assert not [t for t in types if t.startswith("Custom::") or t == "AWS::CloudFormation::CustomResource"]


def test_the_bucket_itself_triggers_the_ingest_under_the_key_prefix(synthesize: Synthesize) -> None:
    localstack = synthesize(localstack="true", keyPrefix="tenant-a/")
    stack = localstack.stack
    bucket = localstack.resources("AWS::S3::Bucket")[stack.get_logical_id(stack.storage.bucket.node.default_child)]
    ingest_arn = {"Fn::GetAtt": [stack.get_logical_id(stack.ingest.function.node.default_child), "Arn"]}
    assert bucket["Properties"]["NotificationConfiguration"] == {
        "LambdaConfigurations": [
            {
                "Event": "s3:ObjectCreated:*",
                "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": "tenant-a/incoming/"}]}},
                "Function": ingest_arn,
            }
        ]
    }
    # And S3 of this account may invoke the ingest for this bucket, before the configuration is set
    _, permission = _bucket_s3_permission(localstack.resources("AWS::Lambda::Permission"))
    assert permission["Properties"]["FunctionName"] == ingest_arn
    assert permission["Properties"]["SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert _as_text(permission["Properties"]["SourceArn"]) == (
        "arn:${AWS::Partition}:s3:::stillframe-media-${AWS::AccountId}-${AWS::Region}"
    )
    # And cdk-nag accepts the by-name object grant under the prefix
    assert localstack.violations() == []


def _references(value: Any) -> set[str]:
    if isinstance(value, list):
        return set().union(*map(_references, value)) if value else set()
    if not isinstance(value, dict):
        return set()
    found: set[str] = set()
    for key, item in value.items():
        if key == "Ref":
            found.add(item)
        elif key == "Fn::GetAtt":
            found.add(item[0])
        elif key == "Fn::Sub":
            found |= set(re.findall(r"\$\{([^}.!]+)", item if isinstance(item, str) else item[0]))
        found |= _references(item)
    return found


def _has_cycle(resources: dict[str, Any]) -> bool:
    edges = {
        logical_id: (_references(resource.get("Properties", {})) | set(resource.get("DependsOn", []))) & set(resources)
        for logical_id, resource in resources.items()
    }
    done: set[str] = set()
    visiting: set[str] = set()

    def visit(node: str) -> bool:
        if node in done:
            return False
        if node in visiting:
            return True
        visiting.add(node)
        cycle = any(visit(target) for target in edges[node])
        visiting.discard(node)
        done.add(node)
        return cycle

    return any(visit(node) for node in resources)


@pytest.mark.parametrize("context", [{}, {"localstack": "true"}, {"localstack": "true", "authMode": "keys"}])
def test_the_template_has_no_dependency_cycle(synthesize: Synthesize, context: dict[str, str]) -> None:
    # The bucket names the ingest function; the functions must not refer back to the bucket resource
    assert not _has_cycle(synthesize(**context).template.to_json()["Resources"])


def test_the_cycle_check_finds_a_cycle() -> None:
    resources = {
        "Bucket": {"Properties": {"Notify": {"Fn::GetAtt": ["Fn", "Arn"]}}},
        "Fn": {"Properties": {"Env": {"Ref": "Bucket"}}},
    }
    assert _has_cycle(resources)


def test_the_runtime_acknowledgment_applies_in_the_localstack_build_only(synthesize: Synthesize) -> None:
    deployed, localstack = synthesize(), synthesize(localstack="true")
    for synthesized in (deployed, localstack):
        assert synthesized.violations() == []
    assert "AwsSolutions-L1" not in deployed.acknowledged_rules(deployed.stack.media.function)
    for function in (
        localstack.stack.media.function,
        localstack.stack.ingest.function,
        localstack.stack.delivery.function,
    ):
        assert "AwsSolutions-L1" in localstack.acknowledged_rules(function)
    assert "AwsSolutions-L1" not in deployed.acknowledged_rules(deployed.stack.delivery.function)


def test_the_asset_hash_depends_on_the_sources_not_on_the_rest_of_the_stack(synthesize: Synthesize) -> None:
    # Two builds of the same sources share one asset hash: a re-synth finds the bundle already staged
    first = synthesize(localstack="true")
    second = synthesize(localstack="true", keyPrefix="other/")
    keys = {
        json.dumps(f["Properties"]["Code"]["S3Key"])
        for synthesized in (first, second)
        for f in synthesized.resources("AWS::Lambda::Function").values()
    }
    assert len(keys) == 1
