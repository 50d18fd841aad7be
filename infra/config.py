"""Deployment settings, read once from CDK context and validated before any construct is built.

Every key is optional; the defaults below are also written in ``cdk.json`` so they are discoverable.
Override one with ``npx cdk deploy -c retentionDays=14`` (context values from the CLI arrive as strings).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_cdk import aws_logs as logs
from constructs import Node

# CloudWatch Logs accepts only these retention periods; a table keeps the context value a plain number.
_LOG_RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
}


AUTH_MODES = ("iam", "keys")
LOCALSTACK_RUNTIMES = ("python3.11", "python3.12")
# A bucket name is at most 63 characters: "<stack>-media-<12-digit account>-<region (up to 16)>".
MAX_LOCALSTACK_STACK_NAME = 63 - len("-media-") - 12 - 1 - 16
_BUCKET_NAME_PART = re.compile(rf"[a-z0-9](?:[a-z0-9-]{{0,{MAX_LOCALSTACK_STACK_NAME - 2}}}[a-z0-9])?")
# S3's bucket naming rules (general purpose buckets): 3-63 lowercase letters, digits, dots and hyphens.
_S3_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no", "")


class ConfigError(ValueError):
    """A context value is malformed; raised at synth time, before anything is deployed."""


@dataclass(frozen=True, kw_only=True)
class StillframeConfig:
    """Everything a deployment may choose.

    Context keys (camelCase, as CDK context usually is):
      stackName                 CloudFormation stack name                     default "Stillframe"
      retentionDays             days before fragments under media/ expire      default 7
      keyPrefix                 key prefix inside the bucket ("" or "x/")     default ""
      stageName                 API stage, part of every URL                   default "v1"
      throttleRateLimit         stage steady-state requests per second         default 50
      throttleBurstLimit        stage burst                                    default 100
      mediaMemoryMb             media function memory (CPU scales with it)     default 3584
      mediaReservedConcurrency  reserved concurrency of the media function     default none
      logRetentionDays          function and API log retention (days)          default 30
      alarmTopicArn             SNS topic the alarms notify                    default none
      authMode                  who checks SigV4: "iam" (API Gateway, AWS_IAM  default "iam"
                                on every method) or "keys" (the functions,
                                against the access keys in the KeysSecret)
      localstack                a build for community LocalStack: zip          default false
                                functions on one self-contained asset, no
                                layer, the drop-zone trigger without a custom
                                resource (the bucket gets a fixed name)
      localstackRuntime         those zips' runtime: "python3.11" (the host    default "python3.11"
                                executor), "python3.12" (LocalStack's docker
                                executor: its 3.11 image predates PyAV's
                                manylinux_2_28 wheels)
      imageDeliveryBuckets      buckets the delivery function may write      default none
                                images to (s3:PutObject on <bucket>/*): the
                                buckets of the streams' image generation
                                DestinationConfig Uris; a JSON list or a
                                comma-separated string ("a,b"). None: no
                                destination grant, deliveries fail into the
                                delivery DLQ (unless a bucket policy allows)
      putMediaEndpoint          the URL of a `stillframe serve --bucket` host  default none
                                in front of this stack's bucket: what
                                GetDataEndpoint(PUT_MEDIA) answers, so KVS
                                producers stream there. None: producers are
                                told this API cannot hold their sessions
    """

    stack_name: str = "Stillframe"
    retention_days: int = 7
    key_prefix: str = ""
    stage_name: str = "v1"
    throttle_rate_limit: int = 50
    throttle_burst_limit: int = 100
    media_memory_mb: int = 3584
    media_reserved_concurrency: int | None = None
    log_retention_days: int = 30
    alarm_topic_arn: str | None = None
    auth_mode: str = "iam"
    localstack: bool = False
    localstack_runtime: str = "python3.11"
    image_delivery_buckets: tuple[str, ...] = ()
    put_media_endpoint: str = ""

    @classmethod
    def from_context(cls, node: Node) -> StillframeConfig:
        """Read and validate the settings from a construct node's context (usually the App's)."""
        get: Callable[[str], Any] = node.try_get_context
        defaults = cls()
        config = cls(
            stack_name=_text(get("stackName"), defaults.stack_name),
            retention_days=_int("retentionDays", get("retentionDays"), defaults.retention_days),
            key_prefix=_text(get("keyPrefix"), defaults.key_prefix),
            stage_name=_text(get("stageName"), defaults.stage_name),
            throttle_rate_limit=_int("throttleRateLimit", get("throttleRateLimit"), defaults.throttle_rate_limit),
            throttle_burst_limit=_int("throttleBurstLimit", get("throttleBurstLimit"), defaults.throttle_burst_limit),
            media_memory_mb=_int("mediaMemoryMb", get("mediaMemoryMb"), defaults.media_memory_mb),
            media_reserved_concurrency=_optional_int("mediaReservedConcurrency", get("mediaReservedConcurrency")),
            log_retention_days=_int("logRetentionDays", get("logRetentionDays"), defaults.log_retention_days),
            alarm_topic_arn=_text(get("alarmTopicArn"), "") or None,
            auth_mode=_text(get("authMode"), defaults.auth_mode),
            localstack=_bool("localstack", get("localstack"), defaults.localstack),
            localstack_runtime=_text(get("localstackRuntime"), defaults.localstack_runtime),
            image_delivery_buckets=_names("imageDeliveryBuckets", get("imageDeliveryBuckets")),
            put_media_endpoint=_text(get("putMediaEndpoint"), "").rstrip("/"),
        )
        config.validate()
        return config

    def validate(self) -> None:
        """Refuse settings that CloudFormation would reject late, or that would silently misbehave."""
        if self.retention_days < 1:
            raise ConfigError("retentionDays must be at least 1")
        if self.key_prefix and (self.key_prefix.startswith("/") or not self.key_prefix.endswith("/")):
            raise ConfigError("keyPrefix must be empty or look like 'folder/' (no leading slash, one trailing)")
        if not self.stage_name.isalnum():
            raise ConfigError("stageName must be letters and digits only")
        if self.throttle_rate_limit < 1 or self.throttle_burst_limit < 1:
            raise ConfigError("throttleRateLimit and throttleBurstLimit must be at least 1")
        if not 128 <= self.media_memory_mb <= 10240:
            raise ConfigError("mediaMemoryMb must be within 128..10240 (Lambda's range)")
        if self.media_reserved_concurrency is not None and self.media_reserved_concurrency < 1:
            raise ConfigError("mediaReservedConcurrency must be at least 1 when given")
        if self.log_retention_days not in _LOG_RETENTION:
            raise ConfigError(f"logRetentionDays must be one of {sorted(_LOG_RETENTION)}")
        self._validate_modes()
        for bucket in self.image_delivery_buckets:
            if not _S3_BUCKET_NAME.fullmatch(bucket) or ".." in bucket:
                raise ConfigError(
                    f"imageDeliveryBuckets: {bucket!r} is not an S3 bucket name (a name, not an s3:// Uri)"
                )

    def _validate_modes(self) -> None:
        if self.put_media_endpoint and not self.put_media_endpoint.startswith("https://"):
            raise ConfigError(f"putMediaEndpoint must be an https:// URL, not {self.put_media_endpoint!r}")
        if self.auth_mode not in AUTH_MODES:
            raise ConfigError(f"authMode must be one of {', '.join(AUTH_MODES)}, not {self.auth_mode!r}")
        if self.localstack_runtime not in LOCALSTACK_RUNTIMES:
            raise ConfigError(f"localstackRuntime must be one of {', '.join(LOCALSTACK_RUNTIMES)}")
        if self.localstack and not _BUCKET_NAME_PART.fullmatch(self.stack_name.lower()):
            # In LocalStack mode the media bucket is named after the stack (see media_bucket_name).
            raise ConfigError(
                f"with localstack=true, stackName must be letters, digits and inner hyphens, at most "
                f"{MAX_LOCALSTACK_STACK_NAME} characters (it becomes part of the bucket name)"
            )

    @property
    def keys_auth(self) -> bool:
        """True when the functions, not API Gateway, verify the callers' signatures."""
        return self.auth_mode == "keys"

    @property
    def log_retention(self) -> logs.RetentionDays:
        """The log retention as the CloudWatch enum."""
        return _LOG_RETENTION[self.log_retention_days]


def _text(raw: Any, default: str) -> str:
    return default if raw is None else str(raw).strip()


def _int(name: str, raw: Any, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name} must be an integer, not {raw!r}") from exc


def _bool(name: str, raw: Any, default: bool) -> bool:
    if raw is None:
        return default
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def _names(name: str, raw: Any) -> tuple[str, ...]:
    """A JSON list (cdk.json, or a CLI value starting with "[") or a comma-separated string, deduplicated."""
    if raw is None:
        return ()
    if isinstance(raw, str) and raw.strip().startswith("["):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise ConfigError(f"{name} must be a JSON list or a comma-separated string, not {raw!r}") from exc
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise ConfigError(f"{name} must be a list of names, not {raw!r}")
    return tuple(dict.fromkeys(item.strip() for item in items if item.strip()))


def _optional_int(name: str, raw: Any) -> int | None:
    if raw is None or raw == "" or str(raw).lower() in ("none", "null"):
        return None
    return _int(name, raw, 0)
