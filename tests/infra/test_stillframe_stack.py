"""The whole Stillframe stack, as `cdk deploy` would get it: wiring between the constructs, grants, cdk-nag."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match

from infra.application import add_compliance_checks, build
from tests.infra.cdk_helpers import Synthesized, make_app


def _function(synthesized: Synthesized, construct: Any) -> dict[str, Any]:
    logical_id = synthesized.stack.get_logical_id(construct.node.default_child)
    resource: dict[str, Any] = synthesized.resources("AWS::Lambda::Function")[logical_id]
    return resource["Properties"]


def _policy_statements(synthesized: Synthesized, function: Any) -> list[dict[str, Any]]:
    role_id = synthesized.stack.get_logical_id(function.role.node.default_child)
    statements: list[dict[str, Any]] = []
    for policy in synthesized.resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _ref(synthesized: Synthesized, construct: Any) -> dict[str, str]:
    return {"Ref": synthesized.stack.get_logical_id(construct.node.default_child)}


def test_cdk_nag_aws_solutions_has_no_unacknowledged_finding(synthesized: Synthesized) -> None:
    # Given the app built as app.py builds it (AwsSolutionsChecks registered)
    # When it was synthesized
    violations = synthesized.violations()
    # Then every finding (error or warning) is acknowledged, so the synth succeeded
    assert violations == [], "\n".join(violations)
    assert synthesized.error is None


def test_a_key_prefix_deployment_also_passes_the_checks_and_confines_objects(tmp_path: Path) -> None:
    # Given the app with a key prefix (its IAM resources and lifecycle differ from the default)
    app = make_app(tmp_path, keyPrefix="tenant-a/")
    stack = build(app)
    # When it is synthesized, Then no finding is left unacknowledged
    app.synth()
    # And object access is confined to the prefix
    template = json.loads((tmp_path / f"{stack.stack_name}.template.json").read_text())
    object_resources = [
        json.dumps(statement["Resource"])
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy"
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        if "s3:GetObject" in statement["Action"]
    ]
    # (the three data-plane functions, and the delivery function's read)
    assert len(object_resources) == 4
    assert all('"/tenant-a/*"' in resource for resource in object_resources)


def test_compliance_checks_fail_the_synth_on_an_unacknowledged_finding(tmp_path: Path) -> None:
    # Given an app with the same checks and a bucket without access logs or a TLS-only policy
    app = make_app(tmp_path)
    s3.Bucket(Stack(app, "Careless"), "Bucket")
    add_compliance_checks(app)
    # When it is synthesized, Then validation fails and names the rules
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = (tmp_path / "validation-report.json").read_text()
    assert "AwsSolutions-S1" in report
    assert "AwsSolutions-S10" in report


def test_media_and_ingest_run_the_same_image_with_their_own_handler(synthesized: Synthesized) -> None:
    # Given the media and ingest functions
    media = _function(synthesized, synthesized.stack.media.function)
    ingest = _function(synthesized, synthesized.stack.ingest.function)
    # Then both are container-image functions of one image, told apart by the CMD override
    assert media["PackageType"] == ingest["PackageType"] == "Image"
    assert media["Code"]["ImageUri"] == ingest["Code"]["ImageUri"]
    assert media["ImageConfig"]["Command"] == ["stillframe.handlers.api.lambda_handler"]
    assert ingest["ImageConfig"]["Command"] == ["stillframe.handlers.dropzone.lambda_handler"]


def test_image_asset_is_staged_without_docker_and_holds_only_the_runtime_sources(synthesized: Synthesized) -> None:
    # Given the cloud assembly's asset manifest
    manifest = json.loads((synthesized.outdir / f"{synthesized.stack.stack_name}.assets.json").read_text())
    images = list(manifest["dockerImages"].values())
    # Then exactly one image is to be built at deploy time, from lambda_src/Dockerfile
    assert len(images) == 1
    source = images[0]["source"]
    assert source["dockerFile"] == "lambda_src/Dockerfile"
    assert source["platform"] == "linux/amd64"
    # And its staged build context holds the project's runtime sources and nothing else
    context = synthesized.outdir / source["directory"]
    assert {p.name for p in context.iterdir()} <= {"pyproject.toml", "README.md", "lambda_src"}
    assert (context / "lambda_src" / "stillframe" / "api").is_dir()
    assert (context / "lambda_src" / "Dockerfile").is_file()
    assert not list(context.rglob("__pycache__"))


def test_control_plane_is_a_zip_function_on_the_layer(synthesized: Synthesized) -> None:
    control = _function(synthesized, synthesized.stack.control_plane.function)
    assert control["Runtime"] == "python3.11"
    assert control["Handler"] == "stillframe.handlers.api.lambda_handler"
    assert control["Layers"] == [_ref(synthesized, synthesized.stack.control_plane_layer.layer)]


def test_functions_are_configured_for_the_s3_store_of_this_bucket(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    secret = _ref(synthesized, stack.token_secret.secret)
    for function in (stack.control_plane.function, stack.media.function, stack.ingest.function):
        env = _function(synthesized, function)["Environment"]["Variables"]
        assert env["STILLFRAME_STORE"] == "s3"
        assert env["STILLFRAME_BUCKET"] == _ref(synthesized, stack.storage.bucket)
        assert env["POWERTOOLS_SERVICE_NAME"] == "stillframe"
    # And the API functions (they sign NextTokens) know the secret; the ingest does not
    assert (
        _function(synthesized, stack.media.function)["Environment"]["Variables"]["STILLFRAME_TOKEN_SECRET_ARN"]
        == secret
    )
    control_env = _function(synthesized, stack.control_plane.function)["Environment"]["Variables"]
    assert control_env["STILLFRAME_TOKEN_SECRET_ARN"] == secret
    assert (
        "STILLFRAME_TOKEN_SECRET_ARN" not in _function(synthesized, stack.ingest.function)["Environment"]["Variables"]
    )


def test_token_secret_is_readable_by_both_api_functions_only(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    secret = _ref(synthesized, stack.token_secret.secret)

    def can_read_secret(function: Any) -> bool:
        return any(
            s["Resource"] == secret and "secretsmanager:GetSecretValue" in s["Action"]
            for s in _policy_statements(synthesized, function)
        )

    assert can_read_secret(stack.control_plane.function)
    assert can_read_secret(stack.media.function)
    assert not can_read_secret(stack.ingest.function)


def test_every_function_may_read_write_and_delete_objects_but_nothing_broader(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    for function in (stack.control_plane.function, stack.media.function, stack.ingest.function):
        actions = {
            action
            for s in _policy_statements(synthesized, function)
            for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
            if action.startswith("s3:")
        }
        assert actions == {
            "s3:ListBucket",
            "s3:GetObject",
            "s3:PutObject",
            "s3:DeleteObject",
            "s3:AbortMultipartUpload",
        }


def test_ingest_failures_go_to_the_dlq_after_two_retries_and_raise_an_alarm(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    queue_arn = {
        "Fn::GetAtt": [synthesized.stack.get_logical_id(stack.ingest.dead_letter_queue.node.default_child), "Arn"]
    }
    synthesized.template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "FunctionName": _ref(synthesized, stack.ingest.function),
            "MaximumRetryAttempts": 2,
            "DestinationConfig": {"OnFailure": {"Destination": queue_arn}},
        },
    )
    synthesized.template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": Match.any_value()}],
        },
    )


def test_alarms_cover_api_5xx_and_each_functions_errors_and_throttles(synthesized: Synthesized) -> None:
    alarms = synthesized.resources("AWS::CloudWatch::Alarm").values()
    metrics = sorted(a["Properties"]["MetricName"] for a in alarms)
    assert metrics == sorted(["5XXError"] + ["ApproximateNumberOfMessagesVisible"] * 2 + ["Errors", "Throttles"] * 4)


def test_outputs_give_the_data_endpoint_the_bucket_and_the_auth_mode(synthesized: Synthesized) -> None:
    outputs = synthesized.template.to_json()["Outputs"]
    assert set(outputs) == {"ApiUrl", "BucketName", "DropZone", "AuthMode"}
    assert outputs["AuthMode"]["Value"] == "iam"
    url = json.dumps(outputs["ApiUrl"]["Value"])
    assert "execute-api" in url
    assert outputs["BucketName"]["Value"] == _ref(synthesized, synthesized.stack.storage.bucket)


def test_drop_zone_events_trigger_the_ingest_function(synthesized: Synthesized) -> None:
    synthesized.template.has_resource_properties(
        "Custom::S3BucketNotifications",
        {
            "NotificationConfiguration": {
                "LambdaFunctionConfigurations": [
                    Match.object_like(
                        {
                            "Events": ["s3:ObjectCreated:*"],
                            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "incoming/"}]}},
                        }
                    )
                ]
            }
        },
    )


def test_both_ingest_paths_know_the_delivery_queue_and_may_send_to_it(synthesized: Synthesized) -> None:
    # Given the media function (PutMedia) and the drop-zone ingest
    stack = synthesized.stack
    queue_ref = _ref(synthesized, stack.delivery.queue)
    queue_arn = {"Fn::GetAtt": [queue_ref["Ref"], "Arn"]}
    for function in (stack.media.function, stack.ingest.function):
        # Then each is told the queue's URL and may send to it
        assert (
            _function(synthesized, function)["Environment"]["Variables"]["STILLFRAME_DELIVERY_QUEUE_URL"] == queue_ref
        )
        sends = [
            s
            for s in _policy_statements(synthesized, function)
            if queue_arn in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
        ]
        assert [s["Action"] for s in sends] == [["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"]]
    # And the control plane, which ingests nothing, neither
    control = _function(synthesized, stack.control_plane.function)["Environment"]["Variables"]
    assert "STILLFRAME_DELIVERY_QUEUE_URL" not in control


def test_the_delivery_function_deletes_only_job_markers_and_deleted_streams_media(synthesized: Synthesized) -> None:
    # Given the default deployment (no imageDeliveryBuckets)
    stack = synthesized.stack
    statements = [
        s
        for s in _policy_statements(synthesized, stack.delivery.function)
        if any(a.startswith("s3:") for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    ]
    by_action = {s["Action"]: json.dumps(s["Resource"]) for s in statements}
    # Then it lists and reads the media bucket, deletes job markers and deleted streams' media (purge/ records
    # name them) only, and writes to no bucket at all
    assert set(by_action) == {"s3:ListBucket", "s3:GetObject", "s3:DeleteObject"}
    deletes = json.loads(by_action["s3:DeleteObject"])
    assert [arn["Fn::Join"][1][-1] for arn in deletes] == ["/generate/*", "/media/*", "/purge/*"]
    assert not [
        s
        for policy in synthesized.resources("AWS::IAM::Policy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "s3:PutObject"
    ]
    # And its image is the one the other functions run, with its own handler
    props = _function(synthesized, stack.delivery.function)
    assert props["Code"]["ImageUri"] == _function(synthesized, stack.media.function)["Code"]["ImageUri"]
    assert props["ImageConfig"]["Command"] == ["stillframe.handlers.delivery.lambda_handler"]
    assert props["Environment"]["Variables"]["STILLFRAME_BUCKET"] == _ref(synthesized, stack.storage.bucket)


def test_named_destination_buckets_are_granted_and_pass_cdk_nag(synthesize: Any) -> None:
    # Given two destination buckets in the context, as the CLI passes them
    synthesized = synthesize(imageDeliveryBuckets="images-a, images-b")
    # Then the delivery function (and nothing else) may put objects there, and every finding is acknowledged
    writes = [
        (policy["Properties"]["Roles"], s["Resource"])
        for policy in synthesized.resources("AWS::IAM::Policy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "s3:PutObject"
    ]
    role = _ref(synthesized, synthesized.stack.delivery.function.role)
    assert [roles for roles, _ in writes] == [[role]]
    assert "images-a/*" in json.dumps(writes[0][1]) and "images-b/*" in json.dumps(writes[0][1])
    assert synthesized.violations() == []
    assert synthesized.error is None
