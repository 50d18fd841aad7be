"""DropzoneIngest alone: the image's ingest handler, its S3 trigger, retries and failure queue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from infra.constructs.dropzone_ingest import DropzoneIngest


def _ingest(stack: Stack, key_prefix: str = "") -> tuple[DropzoneIngest, Template]:
    bucket = s3.Bucket(stack, "Bucket")
    ingest = DropzoneIngest(
        stack, "Ingest", bucket=bucket, key_prefix=key_prefix, log_retention=logs.RetentionDays.ONE_WEEK
    )
    return ingest, Template.from_stack(stack)


def _logical_id(stack: Stack, construct: Any) -> str:
    return stack.get_logical_id(construct.node.default_child)


def test_ingest_runs_the_ingest_handler_from_the_image(bare_stack: Callable[..., Stack]) -> None:
    stack = bare_stack()
    ingest, template = _ingest(stack)
    props = template.find_resources("AWS::Lambda::Function")[_logical_id(stack, ingest.function)]["Properties"]
    assert props["PackageType"] == "Image"
    assert props["ImageConfig"]["Command"] == ["stillframe.handlers.dropzone.lambda_handler"]
    # Large files: Lambda's longest timeout and room in /tmp
    assert props["Timeout"] == 900
    assert props["EphemeralStorage"]["Size"] >= 4096


def test_only_objects_under_incoming_trigger_it(bare_stack: Callable[..., Stack]) -> None:
    stack = bare_stack()
    ingest, template = _ingest(stack, key_prefix="tenant-a/")
    template.has_resource_properties(
        "Custom::S3BucketNotifications",
        {
            "NotificationConfiguration": {
                "LambdaFunctionConfigurations": [
                    {
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "tenant-a/incoming/"}]}},
                        "LambdaFunctionArn": {"Fn::GetAtt": [_logical_id(stack, ingest.function), "Arn"]},
                    }
                ]
            }
        },
    )


def test_a_failed_event_is_retried_twice_then_kept_in_the_queue(bare_stack: Callable[..., Stack]) -> None:
    stack = bare_stack()
    ingest, template = _ingest(stack)
    queue_id = _logical_id(stack, ingest.dead_letter_queue)
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "MaximumRetryAttempts": 2,
            "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [queue_id, "Arn"]}}},
        },
    )
    # And the function may send to the queue, which is encrypted, TLS-only and keeps messages 14 days
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": Match.array_with(["sqs:SendMessage"]),
                                "Resource": {"Fn::GetAtt": [queue_id, "Arn"]},
                            }
                        )
                    ]
                )
            }
        },
    )
    queue = template.find_resources("AWS::SQS::Queue")[queue_id]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            }
        },
    )


def test_with_the_bucket_by_name_the_bucket_itself_triggers_the_ingest(bare_stack: Callable[..., Stack]) -> None:
    # Given a bucket with a fixed name, and the ingest told to refer to it by that name
    stack = bare_stack()
    bucket = s3.Bucket(stack, "Bucket", bucket_name="drop-zone-bucket")
    by_name = s3.Bucket.from_bucket_name(stack, "ByName", "drop-zone-bucket")
    ingest = DropzoneIngest(
        stack, "Ingest", bucket=bucket, key_prefix="", log_retention=logs.RetentionDays.ONE_WEEK, bucket_by_name=by_name
    )
    template = Template.from_stack(stack)
    function_arn = {"Fn::GetAtt": [_logical_id(stack, ingest.function), "Arn"]}
    # Then no custom resource sets the notification: the bucket's own configuration does
    assert template.find_resources("Custom::S3BucketNotifications") == {}
    [(permission_id, permission)] = template.find_resources("AWS::Lambda::Permission").items()
    [bucket_resource] = template.find_resources("AWS::S3::Bucket").values()
    assert bucket_resource["Properties"]["NotificationConfiguration"]["LambdaConfigurations"] == [
        {
            "Event": "s3:ObjectCreated:*",
            "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": "incoming/"}]}},
            "Function": function_arn,
        }
    ]
    # And after S3 was allowed to invoke the function for this bucket
    assert bucket_resource["DependsOn"] == [permission_id]
    assert permission["Properties"]["Principal"] == "s3.amazonaws.com"
    assert permission["Properties"]["FunctionName"] == function_arn
    assert "drop-zone-bucket" in str(permission["Properties"]["SourceArn"])
    # And the function knows the bucket by its name, not by a Ref (which would make a cycle)
    props = template.find_resources("AWS::Lambda::Function")[_logical_id(stack, ingest.function)]["Properties"]
    assert props["Environment"]["Variables"]["STILLFRAME_BUCKET"] == "drop-zone-bucket"
