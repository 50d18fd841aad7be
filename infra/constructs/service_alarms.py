"""Alarms a person should hear about: API 5xx, function errors and throttles, events stuck in the DLQ."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

PERIOD = Duration.minutes(5)


class ServiceAlarms(Construct):
    """One alarm per signal, each firing on the first occurrence in a 5-minute period.

    Any 5xx, error or throttle is worth a look at this service's scale: clients retry them, so they hide in
    latency instead of failing loudly. Missing data (no traffic) is not breaching.

    Attributes:
      alarms: alarm by name (``Api5xx``, ``<Function>Errors``, ``<Function>Throttles``, ``IngestDlqDepth``,
        ``DeliveryDlqDepth`` when a delivery dead-letter queue is given).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: apigw.Stage,
        functions: Mapping[str, lambda_.IFunction],
        dead_letter_queue: sqs.IQueue,
        delivery_dead_letter_queue: sqs.IQueue | None = None,
        alarm_topic: sns.ITopic | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        self._add("Api5xx", stage.metric_server_error(period=PERIOD, statistic="Sum"), "API answered 5xx")
        for name, function in functions.items():
            self._add(f"{name}Errors", function.metric_errors(period=PERIOD, statistic="Sum"), f"{name} errors")
            self._add(
                f"{name}Throttles", function.metric_throttles(period=PERIOD, statistic="Sum"), f"{name} throttled"
            )
        self._add(
            "IngestDlqDepth",
            dead_letter_queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
            "drop-zone ingest events failed after retries (see the DLQ messages)",
        )
        if delivery_dead_letter_queue is not None:
            self._add(
                "DeliveryDlqDepth",
                delivery_dead_letter_queue.metric_approximate_number_of_messages_visible(
                    period=PERIOD, statistic="Maximum"
                ),
                "image delivery jobs failed on every receive (see the DLQ messages and the delivery function's log)",
            )
        if alarm_topic is not None:
            action = cloudwatch_actions.SnsAction(alarm_topic)
            for alarm in self.alarms.values():
                alarm.add_alarm_action(action)

    def _add(self, name: str, metric: cloudwatch.IMetric, description: str) -> None:
        self.alarms[name] = cloudwatch.Alarm(
            self,
            name,
            metric=metric,
            alarm_description=f"Stillframe: {description}",
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
