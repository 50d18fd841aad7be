"""The one stateful resource: the S3 bucket holding stream records, fragments, their index and the drop zone."""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct


class MediaBucket(Construct):
    """A private, TLS-only, encrypted bucket with server access logs and a retention lifecycle.

    Media (fragments, index markers, dedupe records) lives under ``<prefix>media/`` and expires after
    ``retention_days``; stream records under ``<prefix>streams/`` never expire (a stream outlives its media,
    as in KVS). Both buckets are retained when the stack is deleted: they hold the users' video.

    ``fixed_name`` (see ``fixed_bucket_name``) names the media bucket; it is then also imported by that name
    as ``bucket_by_name``, for references that must not depend on the bucket resource.

    Attributes:
      bucket: the media bucket.
      bucket_by_name: the same bucket by its fixed name, or None when CloudFormation names it.
      access_log_bucket: where S3 writes the media bucket's server access logs.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        retention_days: int,
        key_prefix: str = "",
        fixed_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_log_bucket = s3.Bucket(
            self,
            "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[s3.LifecycleRule(id="ExpireAccessLogs", expiration=Duration.days(90))],
        )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=fixed_name,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_log_bucket,
            server_access_logs_prefix="media-bucket/",
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=_lifecycle_rules(retention_days=retention_days, key_prefix=key_prefix),
        )
        self.bucket_by_name = (
            None if fixed_name is None else s3.Bucket.from_bucket_name(self, "BucketByName", fixed_name)
        )


def fixed_bucket_name(stack_name: str) -> str:
    """A media bucket name known before deploy, from pseudo parameters only (unique per account and region)."""
    return f"{stack_name.lower()}-media-{Aws.ACCOUNT_ID}-{Aws.REGION}"


def _lifecycle_rules(*, retention_days: int, key_prefix: str) -> list[s3.LifecycleRule]:
    return [
        s3.LifecycleRule(
            id="ExpireMedia",
            prefix=f"{key_prefix}media/",
            expiration=Duration.days(retention_days),
        ),
        # The drop zone is a hand-off area: a file left there (ingest failed for good) should not cost forever.
        s3.LifecycleRule(
            id="ExpireDropZone",
            prefix=f"{key_prefix}incoming/",
            expiration=Duration.days(max(retention_days, 7)),
        ),
        # PutMedia and large drop-zone uploads use multipart uploads; an interrupted one leaves billed parts.
        s3.LifecycleRule(id="AbortIncompleteUploads", abort_incomplete_multipart_upload_after=Duration.days(1)),
    ]
