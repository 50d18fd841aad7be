"""Automated image delivery on AWS: the job queue, its dead-letter queue, the delivery function and its sweep.

Ingest writes a ``generate/`` job marker and sends the queue a message naming it (the stack gives the ingest
functions the queue URL and the send grant). The delivery function consumes the queue a few messages at a time
and reports failed messages one by one, so a bad job is redelivered alone and, after ``MAX_RECEIVES``, kept in the
dead-letter queue. An hourly schedule invokes the same function to queue again markers whose message was lost.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.packaging import FunctionPackaging, ImagePackaging
from infra.constructs.queues import dead_letter_queue, secure_queue
from infra.constructs.runtime import DELIVERY_HANDLER, function_basics

# Rendering is GetImages' engine, so the media function's sizing holds: two vCPUs for two decode threads.
MEMORY_MB = 3584
# A fragment's images take seconds (one decode per GOP, 1-10 images); a batch of BATCH_SIZE fits many times over.
TIMEOUT = Duration.minutes(3)
BATCH_SIZE = 4
# Lambda's advice for SQS sources: a visibility timeout of at least six times the function timeout.
VISIBILITY_TIMEOUT = Duration.minutes(18)
# Three receives (about 54 minutes in flight at most), then the dead-letter queue; the hourly sweep comes after.
MAX_RECEIVES = 3
SWEEP_SCHEDULE = events.Schedule.rate(Duration.hours(1))


class ImageDelivery(Construct):
    """The delivery queue and function, from the same packaging as the other functions (another handler).

    ``destination_buckets`` are the only buckets the function may write images to (``s3:PutObject`` on their
    objects); the stack grants the media-bucket access and the ingest functions' send.

    Attributes:
      queue: job messages (``{"job": "generate/..."}``), encrypted, TLS-only.
      dead_letter_queue: messages that failed ``MAX_RECEIVES`` times, kept 14 days.
      function: the delivery function (SQS event source + the sweep schedule).
      sweep: the EventBridge rule that invokes the sweep.
      log_group: the function's log group.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket_name: str,
        key_prefix: str,
        log_retention: logs.RetentionDays,
        destination_buckets: Sequence[str] = (),
        packaging: FunctionPackaging | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = dead_letter_queue(self, "FailedJobs")
        self.queue = secure_queue(
            self,
            "Jobs",
            visibility_timeout=VISIBILITY_TIMEOUT,
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letter_queue, max_receive_count=MAX_RECEIVES),
        )
        self.log_group, basics = function_basics(
            self,
            log_retention=log_retention,
            bucket_name=bucket_name,
            key_prefix=key_prefix,
            token_secret_arn=None,
            # The sweep sends to the queue; "none": no in-process worker thread in Lambda.
            extra_environment={"STILLFRAME_DELIVERY_QUEUE_URL": self.queue.queue_url, "STILLFRAME_DELIVERY": "none"},
        )
        self.function = (packaging or ImagePackaging()).function(
            self,
            "Function",
            handler=DELIVERY_HANDLER,
            description="Stillframe image delivery: renders generate/ jobs into the streams' S3 destinations",
            memory_size=MEMORY_MB,
            timeout=TIMEOUT,
            **basics,
        )
        self.function.add_event_source(
            event_sources.SqsEventSource(self.queue, batch_size=BATCH_SIZE, report_batch_item_failures=True)
        )
        self.sweep = events.Rule(
            self,
            "Sweep",
            description="Stillframe: queue again image delivery jobs whose message was lost",
            schedule=SWEEP_SCHEDULE,
            targets=[targets.LambdaFunction(self.function, retry_attempts=0)],
        )
        if destination_buckets:
            self.function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["s3:PutObject"],
                    resources=[destination_objects(bucket) for bucket in destination_buckets],
                )
            )


def destination_objects(bucket: str) -> str:
    """The ARN of every object of a destination bucket (the images' keys are under the Uri's prefix)."""
    return f"arn:{Aws.PARTITION}:s3:::{bucket}/*"


def delivery_jobs(key_prefix: str) -> str:
    """The key pattern of the job markers (``stillframe.delivery.jobs.PREFIX``), which delivery deletes when done."""
    return f"{key_prefix}generate/*"
