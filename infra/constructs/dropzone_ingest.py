"""The S3 drop zone: a file put under ``incoming/<stream>/`` is split into fragments by the ingest function."""

from __future__ import annotations

from aws_cdk import Aws, Duration, Size
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from constructs import Construct

from infra.constructs.packaging import FunctionPackaging, ImagePackaging
from infra.constructs.queues import dead_letter_queue
from infra.constructs.runtime import INGEST_HANDLER, function_basics

# Splitting is a remux (no decode), so the work is mostly moving bytes: memory buys network bandwidth and
# room for large uploads, /tmp holds a downloaded file, and 15 minutes (Lambda's maximum) covers big files.
MEMORY_MB = 3008
TIMEOUT = Duration.minutes(15)
EPHEMERAL_STORAGE = Size.gibibytes(10)
# Lambda retries a failed asynchronous (S3 event) invocation this many times before the DLQ gets it.
RETRY_ATTEMPTS = 2
# What S3 reports for every kind of object creation (put, post, copy, multipart completion).
OBJECT_CREATED = "s3:ObjectCreated:*"


class DropzoneIngest(Construct):
    """The ingest function (same image as the API, other handler), its S3 trigger and its failure queue.

    The trigger is CDK's usual one (a custom resource that sets the bucket's notifications at deploy time)
    unless ``bucket_by_name`` is given: the same bucket imported by its fixed name. Then the function refers
    to the bucket by that name only, so the bucket's own ``NotificationConfiguration`` can name the function
    without a dependency cycle, and CloudFormation itself applies the trigger (community LocalStack skips
    custom resources).

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
        bucket: s3.Bucket,
        key_prefix: str,
        log_retention: logs.RetentionDays,
        packaging: FunctionPackaging | None = None,
        bucket_by_name: s3.IBucket | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = dead_letter_queue(self, "FailedEvents")
        # No NextTokens here, so no token secret: the ingest never reads it.
        self.log_group, basics = function_basics(
            self,
            log_retention=log_retention,
            bucket_name=(bucket_by_name or bucket).bucket_name,
            key_prefix=key_prefix,
            token_secret_arn=None,
        )
        self.function = (packaging or ImagePackaging()).function(
            self,
            "Function",
            handler=INGEST_HANDLER,
            description="Stillframe drop-zone ingest: splits incoming/<stream>/ files into fragments",
            memory_size=MEMORY_MB,
            timeout=TIMEOUT,
            ephemeral_storage_size=EPHEMERAL_STORAGE,
            retry_attempts=RETRY_ATTEMPTS,
            max_event_age=Duration.hours(6),
            on_failure=destinations.SqsDestination(self.dead_letter_queue),
            **basics,
        )
        drop_zone = f"{key_prefix}incoming/"
        if bucket_by_name is None:
            bucket.add_event_notification(
                s3.EventType.OBJECT_CREATED,
                s3n.LambdaDestination(self.function),
                s3.NotificationKeyFilter(prefix=drop_zone),
            )
        else:
            self._trigger_from_the_bucket_itself(bucket, bucket_by_name, drop_zone)

    def _trigger_from_the_bucket_itself(self, bucket: s3.Bucket, bucket_by_name: s3.IBucket, drop_zone: str) -> None:
        # S3 checks that it may invoke the function when the configuration is set, so the permission first.
        permission = lambda_.CfnPermission(
            self,
            "InvokeFromBucket",
            action="lambda:InvokeFunction",
            function_name=self.function.function_arn,
            principal="s3.amazonaws.com",
            source_account=Aws.ACCOUNT_ID,
            source_arn=bucket_by_name.bucket_arn,
        )
        cfn_bucket = bucket.node.default_child
        assert isinstance(cfn_bucket, s3.CfnBucket)
        cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            lambda_configurations=[
                s3.CfnBucket.LambdaConfigurationProperty(
                    event=OBJECT_CREATED,
                    function=self.function.function_arn,
                    filter=s3.CfnBucket.NotificationFilterProperty(
                        s3_key=s3.CfnBucket.S3KeyFilterProperty(
                            rules=[s3.CfnBucket.FilterRuleProperty(name="prefix", value=drop_zone)]
                        )
                    ),
                )
            ]
        )
        cfn_bucket.add_resource_dependency(permission)
