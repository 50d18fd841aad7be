"""The Stillframe stack: composes the constructs, makes the grants between them, and the outputs."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.config import StillframeConfig
from infra.constructs.control_plane_function import ControlPlaneFunction
from infra.constructs.control_plane_layer import ControlPlaneLayer
from infra.constructs.dropzone_ingest import DropzoneIngest
from infra.constructs.media_bucket import MediaBucket
from infra.constructs.media_function import MediaFunction
from infra.constructs.rest_api import StillframeApi
from infra.constructs.service_alarms import ServiceAlarms
from infra.constructs.token_secret import TokenSecret
from infra.stacks.nag_acknowledgments import acknowledge_findings


class StillframeStack(Stack):
    """API Gateway -> Lambda (zip control plane, container-image media) -> S3, plus the S3 drop-zone ingest.

    Attributes: config, storage, token_secret, control_plane_layer, control_plane, media, ingest, api, alarms.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: StillframeConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, description="Stillframe: KVS GetImages-compatible API over S3", **kwargs)
        self.config = config
        self.storage = MediaBucket(self, "Storage", retention_days=config.retention_days, key_prefix=config.key_prefix)
        self.token_secret = TokenSecret(self, "NextTokenSecret")
        self._add_functions(config)
        self.api = StillframeApi(
            self,
            "Api",
            control_plane=self.control_plane.function,
            media=self.media.function,
            stage_name=config.stage_name,
            throttle_rate_limit=config.throttle_rate_limit,
            throttle_burst_limit=config.throttle_burst_limit,
            log_retention=config.log_retention,
        )
        self.alarms = ServiceAlarms(
            self,
            "Alarms",
            stage=self.api.api.deployment_stage,
            functions={
                "ControlPlane": self.control_plane.function,
                "Media": self.media.function,
                "Ingest": self.ingest.function,
            },
            dead_letter_queue=self.ingest.dead_letter_queue,
            alarm_topic=_alarm_topic(self, config.alarm_topic_arn),
        )
        self._grant(config)
        self._outputs(config)
        acknowledge_findings(self)

    def _add_functions(self, config: StillframeConfig) -> None:
        bucket_name = self.storage.bucket.bucket_name
        secret_arn = self.token_secret.secret.secret_arn
        self.control_plane_layer = ControlPlaneLayer(self, "ControlPlaneLayer")
        self.control_plane = ControlPlaneFunction(
            self,
            "ControlPlane",
            layer=self.control_plane_layer.layer,
            bucket_name=bucket_name,
            key_prefix=config.key_prefix,
            token_secret_arn=secret_arn,
            log_retention=config.log_retention,
        )
        self.media = MediaFunction(
            self,
            "Media",
            bucket_name=bucket_name,
            key_prefix=config.key_prefix,
            token_secret_arn=secret_arn,
            log_retention=config.log_retention,
            memory_mb=config.media_memory_mb,
            reserved_concurrency=config.media_reserved_concurrency,
        )
        self.ingest = DropzoneIngest(
            self, "Ingest", bucket=self.storage.bucket, key_prefix=config.key_prefix, log_retention=config.log_retention
        )

    def _grant(self, config: StillframeConfig) -> None:
        # Every function reads and writes streams and media; only the API functions sign NextTokens
        # (ListStreams on the control plane, GetImages and ListFragments on the media function).
        for function in (self.control_plane.function, self.media.function, self.ingest.function):
            _grant_object_access(function, self.storage.bucket, config.key_prefix)
        for function in (self.control_plane.function, self.media.function):
            self.token_secret.secret.grant_read(function)

    def _outputs(self, config: StillframeConfig) -> None:
        CfnOutput(
            self,
            "ApiUrl",
            value=self.api.api.url,
            description="Data endpoint (stage included): endpoint_url for stillframe.client / awscurl",
        )
        CfnOutput(self, "BucketName", value=self.storage.bucket.bucket_name, description="Media bucket")
        CfnOutput(
            self,
            "DropZone",
            value=f"s3://{self.storage.bucket.bucket_name}/{config.key_prefix}incoming/",
            description="Put a video at <DropZone><stream name>/<file> to ingest it",
        )


def _grant_object_access(function: lambda_.IFunction, bucket: s3.IBucket, key_prefix: str) -> None:
    """Exactly the S3 calls the store makes (list, get/head, put incl. multipart, delete) under the prefix.

    Narrower than ``bucket.grant_read_write``, which adds wildcard actions (s3:GetObject*, s3:List*, ...).
    """
    # ListBucket stays unconditional: without it S3 answers 403 instead of 404 for a missing key, and a
    # condition on s3:prefix would not hold for GET/HEAD requests, which carry no prefix.
    function.add_to_role_policy(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn]))
    function.add_to_role_policy(
        iam.PolicyStatement(
            actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
            resources=[bucket.arn_for_objects(f"{key_prefix}*")],
        )
    )


def _alarm_topic(scope: Construct, topic_arn: str | None) -> sns.ITopic | None:
    return None if topic_arn is None else sns.Topic.from_topic_arn(scope, "AlarmTopic", topic_arn)
