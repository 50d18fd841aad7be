"""ImageDelivery alone: the job queue and its DLQ, the delivery function's event source, sweep and grants."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Match, Template

from infra.constructs.image_delivery import BATCH_SIZE, MAX_RECEIVES, ImageDelivery


def _delivery(stack: Stack, buckets: tuple[str, ...] = ()) -> tuple[ImageDelivery, Template]:
    delivery = ImageDelivery(
        stack,
        "Delivery",
        bucket_name="media-bucket",
        key_prefix="",
        log_retention=logs.RetentionDays.ONE_WEEK,
        destination_buckets=buckets,
    )
    return delivery, Template.from_stack(stack)


def _logical_id(stack: Stack, construct: Any) -> str:
    return stack.get_logical_id(construct.node.default_child)


def _statements(template: Template) -> list[dict[str, Any]]:
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_the_queue_dead_letters_a_job_after_a_few_receives(bare_stack: Callable[..., Stack]) -> None:
    # Given the construct in a bare stack
    stack = bare_stack()
    delivery, template = _delivery(stack)
    queues = template.find_resources("AWS::SQS::Queue")
    jobs = queues[_logical_id(stack, delivery.queue)]["Properties"]
    dlq_id = _logical_id(stack, delivery.dead_letter_queue)
    # Then a message received MAX_RECEIVES times goes to the DLQ, which keeps it 14 days
    assert jobs["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
        "maxReceiveCount": MAX_RECEIVES,
    }
    assert queues[dlq_id]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    # And a message stays invisible for six function timeouts while it is being delivered
    function = template.find_resources("AWS::Lambda::Function")[_logical_id(stack, delivery.function)]["Properties"]
    assert jobs["VisibilityTimeout"] >= 6 * function["Timeout"]
    # And both queues are encrypted and refuse plain HTTP
    assert all(q["Properties"]["SqsManagedSseEnabled"] is True for q in queues.values())
    policies = template.find_resources("AWS::SQS::QueuePolicy")
    assert len(policies) == 2
    for policy in policies.values():
        assert {"Bool": {"aws:SecureTransport": "false"}} in [
            s.get("Condition") for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"
        ]


def test_the_function_consumes_small_batches_and_reports_failed_messages_alone(
    bare_stack: Callable[..., Stack],
) -> None:
    stack = bare_stack()
    delivery, template = _delivery(stack)
    function_id = _logical_id(stack, delivery.function)
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "EventSourceArn": {"Fn::GetAtt": [_logical_id(stack, delivery.queue), "Arn"]},
            "FunctionName": {"Ref": function_id},
            "BatchSize": BATCH_SIZE,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        },
    )
    assert BATCH_SIZE <= 10
    # And it is the image's delivery handler, told the queue's URL (for the sweep) and to run no worker thread
    props = template.find_resources("AWS::Lambda::Function")[function_id]["Properties"]
    assert props["PackageType"] == "Image"
    assert props["ImageConfig"]["Command"] == ["stillframe.handlers.delivery.lambda_handler"]
    env = props["Environment"]["Variables"]
    assert env["STILLFRAME_DELIVERY_QUEUE_URL"] == {"Ref": _logical_id(stack, delivery.queue)}
    assert env["STILLFRAME_DELIVERY"] == "none"
    assert env["STILLFRAME_BUCKET"] == "media-bucket"


def test_an_hourly_schedule_invokes_the_sweep(bare_stack: Callable[..., Stack]) -> None:
    stack = bare_stack()
    delivery, template = _delivery(stack)
    function_arn = {"Fn::GetAtt": [_logical_id(stack, delivery.function), "Arn"]}
    template.has_resource_properties(
        "AWS::Events::Rule",
        {"ScheduleExpression": "rate(1 hour)", "Targets": [Match.object_like({"Arn": function_arn})]},
    )
    template.has_resource_properties(
        "AWS::Lambda::Permission", {"Principal": "events.amazonaws.com", "FunctionName": function_arn}
    )


def test_without_destination_buckets_it_may_write_to_no_bucket(bare_stack: Callable[..., Stack]) -> None:
    _, template = _delivery(bare_stack())
    assert not [s for s in _statements(template) if "s3:PutObject" in json.dumps(s["Action"])]


def test_it_may_write_objects_of_the_named_buckets_only(bare_stack: Callable[..., Stack]) -> None:
    # Given two destination buckets
    stack = bare_stack()
    _, template = _delivery(stack, buckets=("images-a", "images-b"))
    # Then one statement allows PutObject (nothing else) on their objects, and no other statement writes to S3
    writes = [s for s in _statements(template) if any(a.startswith("s3:") for a in json.dumps(s["Action"]).split('"'))]
    assert len(writes) == 1
    [statement] = writes
    assert statement["Action"] == "s3:PutObject"
    resources = [stack.resolve(r) for r in statement["Resource"]]
    assert [json.dumps(r) for r in resources] == [
        json.dumps({"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":s3:::{name}/*"]]})
        for name in ("images-a", "images-b")
    ]
