"""The S3 drop zone: a file put under ``incoming/<stream>/`` is split into fragments by the ingest function."""

from __future__ import annotations

from aws_cdk import Duration, Size
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.runtime import INGEST_HANDLER, function_basics, image_code

# Splitting is a remux (no decode), so the work is mostly moving bytes: memory buys network bandwidth and
# room for large uploads, /tmp holds a downloaded file, and 15 minutes (Lambda's maximum) covers big files.
MEMORY_MB = 3008
TIMEOUT = Duration.minutes(15)
EPHEMERAL_STORAGE = Size.gibibytes(10)
# Lambda retries a failed asynchronous (S3 event) invocation this many times before the DLQ gets it.
RETRY_ATTEMPTS = 2


class DropzoneIngest(Construct):
    """The ingest function (same image as the API, other handler), its S3 trigger and its failure queue.

    Attributes:
      function: the Lambda function (S3 grants are made by the stack).
      dead_letter_queue: receives an event (with the error) once its retries are exhausted.
      log_group: the function's log group.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket: s3.IBucket,
        key_prefix: str,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = sqs.Queue(
            self,
            "FailedEvents",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        # No NextTokens here, so no token secret: the ingest never reads it.
        self.log_group, basics = function_basics(
            self,
            log_retention=log_retention,
            bucket_name=bucket.bucket_name,
            key_prefix=key_prefix,
            token_secret_arn=None,
        )
        self.function = lambda_.DockerImageFunction(
            self,
            "Function",
            description="Stillframe drop-zone ingest: splits incoming/<stream>/ files into fragments",
            code=image_code(INGEST_HANDLER),
            memory_size=MEMORY_MB,
            timeout=TIMEOUT,
            ephemeral_storage_size=EPHEMERAL_STORAGE,
            retry_attempts=RETRY_ATTEMPTS,
            max_event_age=Duration.hours(6),
            on_failure=destinations.SqsDestination(self.dead_letter_queue),
            **basics,
        )
        bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED,
            s3n.LambdaDestination(self.function),
            s3.NotificationKeyFilter(prefix=f"{key_prefix}incoming/"),
        )
