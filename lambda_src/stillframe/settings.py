"""Settings: read from the environment once, validated, then passed down explicitly.

Nothing below the entry points (handler, CLI) reads ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from stillframe.errors import StillframeError

DEFAULT_TIME_BUDGET_MS = 25_000
DEFAULT_KEYS_CACHE_SECONDS = 10
DEFAULT_DELIVERY_RETRY_MS = 1000
DELIVERY_MODES = ("thread", "none")
# GetClip's 100 MB (the kinesis-video-archived-media model and KVS limits page); serve answers up to it.
MAX_MEDIA_BYTES = 100 * 1024 * 1024
# Lambda refuses a response over 6,291,556 bytes (its error names that number); a binary body travels as base64
# (4 characters per 3 bytes) inside the proxy JSON, whose status and headers this leaves 16 KiB for.
LAMBDA_RESPONSE_BYTES = 6_291_556
PROXY_ENVELOPE_BYTES = 16 * 1024
LAMBDA_MAX_MEDIA_BYTES = (LAMBDA_RESPONSE_BYTES - PROXY_ENVELOPE_BYTES) // 4 * 3


class SettingsError(StillframeError):
    """A setting is missing or malformed (a deployment error, never a client error)."""


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with defaults for the embedded (local directory) mode.

    Environment variables:
      STILLFRAME_STORE            "local" (default) or "s3"
      STILLFRAME_DATA_DIR         local store root (local mode), default ./stillframe-data
      STILLFRAME_BUCKET           bucket name (s3 mode)
      STILLFRAME_PREFIX           key prefix inside the bucket (s3 mode), default ""
      STILLFRAME_TOKEN_SECRET     NextToken HMAC secret (text); or
      STILLFRAME_TOKEN_SECRET_ARN Secrets Manager secret holding it (read once per cold start)
      STILLFRAME_REGION           region in ARNs, default AWS_REGION or us-east-1
      STILLFRAME_ACCOUNT_ID       account in ARNs, default 000000000000
      STILLFRAME_TIME_BUDGET_MS   GetImages time budget outside Lambda, default 25000
      STILLFRAME_AUTH             "none" (default: API Gateway or nobody checks) or "keys" (the function
                                  checks SigV4 signatures against Stillframe's key store)
      STILLFRAME_KEYS_SECRET_ARN  Secrets Manager secret holding the key store (keys auth on AWS); or
      STILLFRAME_KEYS_FILE        a key store file (keys auth in ``stillframe serve --keys-file``)
      STILLFRAME_KEYS_CACHE_SECONDS  how long a warm process reuses the store, default 10 (a new or revoked
                                  key takes effect within it)
      STILLFRAME_PUBLIC_URL       the base URL GetDataEndpoint answers with (``stillframe serve`` sets it);
                                  unset: the URL the request came in on
      STILLFRAME_DELIVERY         how images for ENABLED image generation are delivered after the ack: "thread"
                                  (default outside Lambda: a background thread of this process) or "none"
                                  (default in Lambda: only the ``generate/`` markers are written)
      STILLFRAME_DELIVERY_RETRY_MS  first retry delay of a failed delivery, doubled each time, default 1000
      STILLFRAME_DELIVERY_QUEUE_URL  SQS queue told about every job marker written (the deployed stack's
                                  delivery queue; its consumer is ``stillframe.handlers.delivery``); unset: none
      STILLFRAME_PUT_MEDIA_ENDPOINT  where producers stream (GetDataEndpoint with APIName PUT_MEDIA answers it):
                                  a ``stillframe serve`` in front of the same bucket; unset: this service itself,
                                  unless it runs in Lambda, which cannot hold a streaming PutMedia (then refused)
    """

    store: str = "local"
    data_dir: str = "./stillframe-data"
    bucket: str = ""
    prefix: str = ""
    token_secret: str = ""
    token_secret_arn: str = ""
    region: str = "us-east-1"
    account_id: str = "000000000000"
    time_budget_ms: int = DEFAULT_TIME_BUDGET_MS
    auth: str = "none"
    keys_secret_arn: str = ""
    keys_file: str = ""
    keys_cache_seconds: int = DEFAULT_KEYS_CACHE_SECONDS
    public_url: str = ""
    delivery: str = "thread"
    delivery_retry_ms: int = DEFAULT_DELIVERY_RETRY_MS
    delivery_queue_url: str = ""
    put_media_endpoint: str = ""
    streams_put_media: bool = True  # False in Lambda: a request is buffered whole, acks cannot stream back
    # The largest media answer (GetClip, GetMediaForFragmentList): KVS's 100 MB, or what fits Lambda's response.
    max_media_bytes: int = MAX_MEDIA_BYTES

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build and validate settings from environment variables."""
        env = os.environ if env is None else env
        settings = cls(
            store=env.get("STILLFRAME_STORE", "local").strip().lower(),
            data_dir=env.get("STILLFRAME_DATA_DIR", "./stillframe-data"),
            bucket=env.get("STILLFRAME_BUCKET", ""),
            prefix=env.get("STILLFRAME_PREFIX", ""),
            token_secret=env.get("STILLFRAME_TOKEN_SECRET", ""),
            token_secret_arn=env.get("STILLFRAME_TOKEN_SECRET_ARN", ""),
            region=env.get("STILLFRAME_REGION") or env.get("AWS_REGION") or "us-east-1",
            account_id=env.get("STILLFRAME_ACCOUNT_ID", "000000000000"),
            time_budget_ms=_int(env, "STILLFRAME_TIME_BUDGET_MS", DEFAULT_TIME_BUDGET_MS),
            auth=env.get("STILLFRAME_AUTH", "none").strip().lower() or "none",
            keys_secret_arn=env.get("STILLFRAME_KEYS_SECRET_ARN", ""),
            keys_file=env.get("STILLFRAME_KEYS_FILE", ""),
            keys_cache_seconds=_int(env, "STILLFRAME_KEYS_CACHE_SECONDS", DEFAULT_KEYS_CACHE_SECONDS),
            public_url=env.get("STILLFRAME_PUBLIC_URL", "").strip(),
            delivery=(env.get("STILLFRAME_DELIVERY") or ("none" if env.get("AWS_LAMBDA_FUNCTION_NAME") else "thread"))
            .strip()
            .lower(),
            delivery_retry_ms=_int(env, "STILLFRAME_DELIVERY_RETRY_MS", DEFAULT_DELIVERY_RETRY_MS),
            delivery_queue_url=env.get("STILLFRAME_DELIVERY_QUEUE_URL", "").strip(),
            put_media_endpoint=env.get("STILLFRAME_PUT_MEDIA_ENDPOINT", "").strip().rstrip("/"),
            streams_put_media=not env.get("AWS_LAMBDA_FUNCTION_NAME"),
            max_media_bytes=LAMBDA_MAX_MEDIA_BYTES if env.get("AWS_LAMBDA_FUNCTION_NAME") else MAX_MEDIA_BYTES,
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.store not in ("local", "s3"):
            raise SettingsError(f"STILLFRAME_STORE must be 'local' or 's3', not {self.store!r}")
        if self.store == "s3" and not self.bucket:
            raise SettingsError("STILLFRAME_BUCKET is required when STILLFRAME_STORE is 's3'")
        if not (self.account_id.isdigit() and len(self.account_id) == 12):
            raise SettingsError("STILLFRAME_ACCOUNT_ID must be 12 digits")
        if self.public_url and not self.public_url.startswith(("http://", "https://")):
            raise SettingsError(f"STILLFRAME_PUBLIC_URL must be an http:// or https:// URL, not {self.public_url!r}")
        if self.put_media_endpoint and not self.put_media_endpoint.startswith(("http://", "https://")):
            raise SettingsError(
                f"STILLFRAME_PUT_MEDIA_ENDPOINT must be an http:// or https:// URL, not {self.put_media_endpoint!r}"
            )
        if self.time_budget_ms < 1000:
            raise SettingsError("STILLFRAME_TIME_BUDGET_MS must be at least 1000")
        if self.delivery not in DELIVERY_MODES:
            raise SettingsError(f"STILLFRAME_DELIVERY must be 'thread' or 'none', not {self.delivery!r}")
        if self.delivery_retry_ms < 1:
            raise SettingsError("STILLFRAME_DELIVERY_RETRY_MS must be at least 1")
        if self.delivery_queue_url and not self.delivery_queue_url.startswith(("http://", "https://")):
            raise SettingsError(
                f"STILLFRAME_DELIVERY_QUEUE_URL must be an SQS queue URL, not {self.delivery_queue_url!r}"
            )
        self._validate_auth()

    def _validate_auth(self) -> None:
        if self.auth not in ("none", "keys"):
            raise SettingsError(f"STILLFRAME_AUTH must be 'none' or 'keys', not {self.auth!r}")
        if self.auth == "keys" and not (self.keys_secret_arn or self.keys_file):
            raise SettingsError("STILLFRAME_AUTH=keys needs STILLFRAME_KEYS_SECRET_ARN (or STILLFRAME_KEYS_FILE)")
        if self.keys_secret_arn and self.keys_file:
            raise SettingsError("give STILLFRAME_KEYS_SECRET_ARN or STILLFRAME_KEYS_FILE, not both")
        if self.keys_cache_seconds < 0:
            raise SettingsError("STILLFRAME_KEYS_CACHE_SECONDS must be 0 or more")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, not {raw!r}") from exc
