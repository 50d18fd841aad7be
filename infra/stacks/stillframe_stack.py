"""The Stillframe stack: composes the constructs, makes the grants between them, and the outputs."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.config import StillframeConfig
from infra.constructs.control_plane_function import ControlPlaneFunction, layered_packaging
from infra.constructs.control_plane_layer import ControlPlaneLayer
from infra.constructs.dropzone_ingest import DropzoneIngest
from infra.constructs.image_delivery import ImageDelivery, delivery_jobs
from infra.constructs.keys_secret import KeysSecret
from infra.constructs.media_bucket import MediaBucket, fixed_bucket_name
from infra.constructs.media_function import MediaFunction
from infra.constructs.packaging import FunctionPackaging, ImagePackaging, self_contained_packaging
from infra.constructs.rest_api import StillframeApi
from infra.constructs.runtime import auth_environment
from infra.constructs.service_alarms import ServiceAlarms
from infra.constructs.token_secret import TokenSecret
from infra.stacks.nag_acknowledgments import acknowledge_findings

# LocalStack build with authMode=keys: re-read the key store this often, so `stillframe keys` takes effect
# within a test's patience (the runtime's default suits a real deployment).
LOCALSTACK_KEYS_CACHE_SECONDS = 5
# Read by stillframe.settings: where ingest sends a message for each image delivery job it writes.
DELIVERY_QUEUE_URL = "STILLFRAME_DELIVERY_QUEUE_URL"


class StillframeStack(Stack):
    """API Gateway -> Lambda (zip control plane, container-image media) -> S3, plus the S3 drop-zone ingest and
    automated image delivery (SQS -> the delivery function -> the configured destination buckets).

    ``config.localstack`` changes the function packaging only (every function a zip of one self-contained
    asset, no layer) and how the drop-zone trigger is made (by the bucket itself; see DropzoneIngest).
    ``config.auth_mode`` "keys" moves SigV4 checking from the gateway to the functions (KeysSecret).

    Attributes: config, storage, token_secret, keys_secret (None unless authMode=keys), control_plane_layer
    (None in the LocalStack build), control_plane, media, ingest, delivery, api, alarms.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: StillframeConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, description="Stillframe: KVS GetImages-compatible API over S3", **kwargs)
        self.config = config
        self.storage = MediaBucket(
            self,
            "Storage",
            retention_days=config.retention_days,
            key_prefix=config.key_prefix,
            fixed_name=fixed_bucket_name(config.stack_name) if config.localstack else None,
        )
        self.token_secret = TokenSecret(self, "NextTokenSecret")
        self.keys_secret = KeysSecret(self, "KeysSecret") if config.keys_auth else None
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
            authorization_type=apigw.AuthorizationType.NONE if config.keys_auth else apigw.AuthorizationType.IAM,
        )
        self.alarms = ServiceAlarms(
            self,
            "Alarms",
            stage=self.api.api.deployment_stage,
            functions={
                "ControlPlane": self.control_plane.function,
                "Media": self.media.function,
                "Ingest": self.ingest.function,
                "Delivery": self.delivery.function,
            },
            dead_letter_queue=self.ingest.dead_letter_queue,
            delivery_dead_letter_queue=self.delivery.dead_letter_queue,
            alarm_topic=_alarm_topic(self, config.alarm_topic_arn),
        )
        self._grant(config)
        self._outputs(config)
        acknowledge_findings(self)

    @property
    def function_bucket(self) -> s3.IBucket:
        """The media bucket as the functions' environment and grants refer to it (by name when it has one)."""
        return self.storage.bucket_by_name or self.storage.bucket

    def _add_functions(self, config: StillframeConfig) -> None:
        bucket_name = self.function_bucket.bucket_name
        secret_arn = self.token_secret.secret.secret_arn
        api_auth = auth_environment(
            keys_secret_arn=self.keys_secret.secret.secret_arn if self.keys_secret else None,
            keys_cache_seconds=LOCALSTACK_KEYS_CACHE_SECONDS if config.localstack and config.keys_auth else None,
        )
        control_packaging: FunctionPackaging
        image_packaging: FunctionPackaging
        if config.localstack:
            self.control_plane_layer = None
            control_packaging = image_packaging = self_contained_packaging(config.localstack_runtime)
        else:
            self.control_plane_layer = ControlPlaneLayer(self, "ControlPlaneLayer")
            control_packaging = layered_packaging(self.control_plane_layer.layer)
            image_packaging = ImagePackaging()
        self.control_plane = ControlPlaneFunction(
            self,
            "ControlPlane",
            packaging=control_packaging,
            bucket_name=bucket_name,
            key_prefix=config.key_prefix,
            token_secret_arn=secret_arn,
            log_retention=config.log_retention,
            auth_environment=api_auth | _put_media_environment(config),
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
            auth_environment=api_auth,
            packaging=image_packaging,
        )
        self.ingest = DropzoneIngest(
            self,
            "Ingest",
            bucket=self.storage.bucket,
            key_prefix=config.key_prefix,
            log_retention=config.log_retention,
            packaging=image_packaging,
            bucket_by_name=self.storage.bucket_by_name,
        )
        self.delivery = ImageDelivery(
            self,
            "Delivery",
            bucket_name=bucket_name,
            key_prefix=config.key_prefix,
            log_retention=config.log_retention,
            destination_buckets=config.image_delivery_buckets,
            packaging=image_packaging,
        )

    def _grant(self, config: StillframeConfig) -> None:
        # Every function reads and writes streams and media; only the API functions sign NextTokens
        # (ListStreams on the control plane, GetImages and ListFragments on the media function).
        for function in (self.control_plane.function, self.media.function, self.ingest.function):
            _grant_object_access(function, self.function_bucket, config.key_prefix)
        # authMode=keys: the API functions also read the access keys whose signatures they verify.
        for function in (self.control_plane.function, self.media.function):
            self.token_secret.secret.grant_read(function)
            if self.keys_secret is not None:
                self.keys_secret.secret.grant_read(function)
        self._grant_delivery(config)

    def _grant_delivery(self, config: StillframeConfig) -> None:
        # The ingest paths (PutMedia, the drop zone) tell the queue about each job marker they write; the
        # delivery function's sweep sends to it too.
        queue = self.delivery.queue
        for function in (self.media.function, self.ingest.function):
            function.add_environment(DELIVERY_QUEUE_URL, queue.queue_url)
        for function in (self.media.function, self.ingest.function, self.delivery.function):
            queue.grant_send_messages(function)
        # The delivery function reads fragments and index markers, and deletes job markers and, in its hourly run,
        # the media of deleted streams (under media/, then their purge/ records).
        bucket, function = self.function_bucket, self.delivery.function
        function.add_to_role_policy(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn]))
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[bucket.arn_for_objects(f"{config.key_prefix}*")])
        )
        deletable = [delivery_jobs(config.key_prefix), f"{config.key_prefix}media/*", f"{config.key_prefix}purge/*"]
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:DeleteObject"], resources=[bucket.arn_for_objects(key) for key in deletable]
            )
        )

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
        CfnOutput(
            self,
            "AuthMode",
            value=config.auth_mode,
            description="iam: API Gateway checks SigV4 (AWS_IAM); keys: the functions check it against KeysSecretArn",
        )
        if self.keys_secret is not None:
            CfnOutput(
                self,
                "KeysSecretArn",
                value=self.keys_secret.secret.secret_arn,
                description="Access-key store of authMode=keys: manage it with `stillframe keys`",
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


def _put_media_environment(config: StillframeConfig) -> dict[str, str]:
    """Where GetDataEndpoint(PUT_MEDIA) sends producers: a session host, when the deployment names one."""
    return {"STILLFRAME_PUT_MEDIA_ENDPOINT": config.put_media_endpoint} if config.put_media_endpoint else {}
