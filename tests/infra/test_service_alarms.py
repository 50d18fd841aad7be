"""ServiceAlarms alone, over stand-in functions, a stage and a queue."""

from __future__ import annotations

from collections.abc import Callable

from aws_cdk import Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from infra.constructs.service_alarms import ServiceAlarms


def _function(stack: Stack) -> lambda_.Function:
    return lambda_.Function(
        stack,
        "Fn",
        runtime=lambda_.Runtime.PYTHON_3_11,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
    )


def _alarms(stack: Stack, topic: sns.ITopic | None) -> ServiceAlarms:
    function = _function(stack)
    api = apigw.LambdaRestApi(stack, "Api", handler=function)
    queue = sqs.Queue(stack, "Dlq")
    return ServiceAlarms(
        stack,
        "Alarms",
        stage=api.deployment_stage,
        functions={"Only": function},
        dead_letter_queue=queue,
        alarm_topic=topic,
    )


def test_one_alarm_per_signal_firing_on_the_first_occurrence(bare_stack: Callable[..., Stack]) -> None:
    # Given one function, a stage and a queue
    stack = bare_stack()
    alarms = _alarms(stack, topic=None)
    template = Template.from_stack(stack)
    # Then there are alarms for API 5xx, the function's errors and throttles, and the queue's depth
    assert set(alarms.alarms) == {"Api5xx", "OnlyErrors", "OnlyThrottles", "IngestDlqDepth"}
    found = template.find_resources("AWS::CloudWatch::Alarm")
    assert {a["Properties"]["MetricName"] for a in found.values()} == {
        "5XXError",
        "Errors",
        "Throttles",
        "ApproximateNumberOfMessagesVisible",
    }
    for alarm in found.values():
        assert alarm["Properties"]["Threshold"] == 1
        assert alarm["Properties"]["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["Properties"]["TreatMissingData"] == "notBreaching"
        # And without a topic, nobody is notified (alarms are visible in the console only)
        assert "AlarmActions" not in alarm["Properties"]


def test_alarms_notify_the_topic_when_one_is_given(bare_stack: Callable[..., Stack]) -> None:
    stack = bare_stack()
    topic_arn = "arn:aws:sns:us-east-1:123456789012:ops"
    _alarms(stack, topic=sns.Topic.from_topic_arn(stack, "Topic", topic_arn))
    found = Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm")
    assert len(found) == 4
    assert all(a["Properties"]["AlarmActions"] == [topic_arn] for a in found.values())


def test_a_delivery_dlq_gets_its_own_depth_alarm(bare_stack: Callable[..., Stack]) -> None:
    # Given the alarms with the image delivery queue's DLQ too
    stack = bare_stack()
    function = _function(stack)
    api = apigw.LambdaRestApi(stack, "Api", handler=function)
    delivery_dlq = sqs.Queue(stack, "DeliveryDlq")
    alarms = ServiceAlarms(
        stack,
        "Alarms",
        stage=api.deployment_stage,
        functions={"Only": function},
        dead_letter_queue=sqs.Queue(stack, "Dlq"),
        delivery_dead_letter_queue=delivery_dlq,
    )
    # Then it fires on the first message in that queue
    assert "DeliveryDlqDepth" in alarms.alarms
    queue_name = stack.resolve(delivery_dlq.queue_name)
    Template.from_stack(stack).has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": queue_name}],
            "Threshold": 1,
        },
    )
