"""The media function: GetImages, ListFragments and PutMedia, from the container image (PyAV, Pillow)."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, Size
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs.packaging import FunctionPackaging, ImagePackaging
from infra.constructs.runtime import API_HANDLER, function_basics

# CPU, not memory, bounds GetImages: decode is ~5 ms per 1080p frame on one thread, and two threads with
# their own decoders nearly double throughput (PERF-NOTES). Lambda grants one vCPU per 1,769 MB, so 3,584 MB
# is the smallest size with a second core for the second decode thread. Cost per image stays about the same
# as 1,792 MB on one thread (twice the GB for half the seconds); peak RSS measured 145-231 MB.
DEFAULT_MEMORY_MB = 3584

# API Gateway REST cuts every integration at 29 s, so a longer timeout would only bill work whose answer
# the client never sees (it already got a 504). GetImages ends a page early from the remaining time, and
# 25 s leaves room for a cold start's init (not counted in the timeout) within the gateway's 29 s.
TIMEOUT = Duration.seconds(25)


class MediaFunction(Construct):
    """The function behind the media routes, from the container image unless told otherwise.

    Grants are made by the stack.

    Attributes:
      function: the Lambda function.
      log_group: its log group.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket_name: str,
        key_prefix: str,
        token_secret_arn: str,
        log_retention: logs.RetentionDays,
        memory_mb: int = DEFAULT_MEMORY_MB,
        reserved_concurrency: int | None = None,
        auth_environment: Mapping[str, str] | None = None,
        packaging: FunctionPackaging | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group, basics = function_basics(
            self,
            log_retention=log_retention,
            bucket_name=bucket_name,
            key_prefix=key_prefix,
            token_secret_arn=token_secret_arn,
            extra_environment=auth_environment,
        )
        self.function = (packaging or ImagePackaging()).function(
            self,
            "Function",
            handler=API_HANDLER,
            description="Stillframe media API: GetImages, ListFragments, PutMedia",
            memory_size=memory_mb,
            timeout=TIMEOUT,
            # Fragments are handled in memory; /tmp only needs room for an occasional spill.
            ephemeral_storage_size=Size.mebibytes(1024),
            reserved_concurrent_executions=reserved_concurrency,
            **basics,
        )
