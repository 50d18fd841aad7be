"""MediaBucket alone in a bare stack: private, TLS-only, encrypted, logged, and media expires by retention."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_cdk import Stack
from aws_cdk.assertions import Match, Template

from infra.constructs.media_bucket import MediaBucket, fixed_bucket_name


def _media_bucket(template: Template, stack: Stack, construct: MediaBucket) -> dict[str, Any]:
    logical_id = stack.get_logical_id(construct.bucket.node.default_child)  # type: ignore[arg-type]
    resource: dict[str, Any] = template.find_resources("AWS::S3::Bucket")[logical_id]
    return resource["Properties"]


def test_bucket_is_private_encrypted_and_logged_to_a_separate_bucket(bare_stack: Callable[..., Stack]) -> None:
    # Given the bucket construct in a bare stack
    stack = bare_stack()
    storage = MediaBucket(stack, "Storage", retention_days=7)
    template = Template.from_stack(stack)
    props = _media_bucket(template, stack, storage)
    # Then public access is blocked, objects are encrypted with S3-managed keys
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    ]
    # And server access logs go to the other bucket
    log_bucket_id = stack.get_logical_id(storage.access_log_bucket.node.default_child)  # type: ignore[arg-type]
    assert props["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": log_bucket_id}


def test_both_buckets_refuse_plain_http(bare_stack: Callable[..., Stack]) -> None:
    stack = bare_stack()
    MediaBucket(stack, "Storage", retention_days=7)
    template = Template.from_stack(stack)
    deny_insecure = Match.object_like(
        {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}, "Action": "s3:*"}
    )
    policies = template.find_resources(
        "AWS::S3::BucketPolicy",
        {"Properties": {"PolicyDocument": {"Statement": Match.array_with([deny_insecure])}}},
    )
    assert len(policies) == 2


def test_media_expires_after_retention_but_stream_records_do_not(bare_stack: Callable[..., Stack]) -> None:
    # Given a 14-day retention
    stack = bare_stack()
    storage = MediaBucket(stack, "Storage", retention_days=14)
    rules = _media_bucket(Template.from_stack(stack), stack, storage)["LifecycleConfiguration"]["Rules"]
    by_id = {rule["Id"]: rule for rule in rules}
    # Then fragments, index markers and dedupe records (all under media/) expire after 14 days
    assert by_id["ExpireMedia"]["Prefix"] == "media/"
    assert by_id["ExpireMedia"]["ExpirationInDays"] == 14
    # And no rule touches stream records (streams/<name>.json): only media/, incoming/ and multipart parts
    assert all(rule.get("Prefix", "") in ("media/", "incoming/") for rule in rules if "ExpirationInDays" in rule)
    # And interrupted multipart uploads are aborted
    assert by_id["AbortIncompleteUploads"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}


def test_lifecycle_prefixes_follow_the_key_prefix(bare_stack: Callable[..., Stack]) -> None:
    stack = bare_stack()
    storage = MediaBucket(stack, "Storage", retention_days=7, key_prefix="tenant-a/")
    rules = _media_bucket(Template.from_stack(stack), stack, storage)["LifecycleConfiguration"]["Rules"]
    prefixes = {rule["Id"]: rule.get("Prefix") for rule in rules}
    assert prefixes["ExpireMedia"] == "tenant-a/media/"
    assert prefixes["ExpireDropZone"] == "tenant-a/incoming/"


def test_buckets_survive_stack_deletion(bare_stack: Callable[..., Stack]) -> None:
    # The buckets hold the users' video: `make destroy` must not take it along
    stack = bare_stack()
    MediaBucket(stack, "Storage", retention_days=7)
    buckets = Template.from_stack(stack).find_resources("AWS::S3::Bucket")
    assert len(buckets) == 2
    assert {b["DeletionPolicy"] for b in buckets.values()} == {"Retain"}


def test_a_fixed_name_comes_from_pseudo_parameters_and_is_also_importable_by_name(
    bare_stack: Callable[..., Stack],
) -> None:
    stack = bare_stack()
    storage = MediaBucket(stack, "Storage", retention_days=7, fixed_name=fixed_bucket_name("Stillframe"))
    props = _media_bucket(Template.from_stack(stack), stack, storage)
    assert props["BucketName"] == {
        "Fn::Join": ["", ["stillframe-media-", {"Ref": "AWS::AccountId"}, "-", {"Ref": "AWS::Region"}]]
    }
    assert storage.bucket_by_name is not None
    assert stack.resolve(storage.bucket_by_name.bucket_name) == props["BucketName"]
    # And without a fixed name CloudFormation names the bucket, as deployed stacks always had it
    other = MediaBucket(stack, "Other", retention_days=7)
    assert other.bucket_by_name is None
