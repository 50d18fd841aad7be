"""The local 'Lambda': its limits and identity, and the context object one invocation receives."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
DEADLINE_MARGIN_MS = 5_000  # the handler's own time budget stops work first; this is Lambda's hard timeout


@dataclass(frozen=True)
class ServerConfig:
    """Limits and identity of the local 'Lambda'."""

    time_budget_ms: int = 25_000
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    region: str = "us-east-1"
    account_id: str = "000000000000"


@dataclass
class LocalLambdaContext:
    """What a Lambda context offers the handler (Powertools reads these attributes)."""

    aws_request_id: str
    deadline: float  # time.monotonic() when Lambda would kill the invocation
    invoked_function_arn: str
    function_name: str = "stillframe-local"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 2048
    log_group_name: str = "/aws/lambda/stillframe-local"
    log_stream_name: str = "local"
    # What the handler learnt about the request, for serve's log line (``api.app`` notes the validated stream).
    request_log: dict[str, str] = field(default_factory=dict)
    # A streaming PutMedia's transport (``server.session.MediaSession``); None for every other request.
    media_session: Any = None
    # A GetMedia's streaming answer (``server.media_writer.MediaWriter``); None for every other request.
    media_writer: Any = None

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the per-request deadline (never negative)."""
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def invocation_context(request_id: str, config: ServerConfig) -> LocalLambdaContext:
    """The context for one request, starting its clock now: the time budget plus Lambda's margin."""
    return LocalLambdaContext(
        aws_request_id=request_id,
        deadline=time.monotonic() + (config.time_budget_ms + DEADLINE_MARGIN_MS) / 1000,
        invoked_function_arn=f"arn:aws:lambda:{config.region}:{config.account_id}:function:stillframe-local",
    )
