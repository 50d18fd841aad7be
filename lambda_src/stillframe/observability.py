"""Logger, Tracer and Metrics for the whole package (at the root, so the domain never imports the handler).

The X-Ray SDK costs ~200 ms to import (it builds a botocore client for sampling rules), so the real
Tracer exists only inside Lambda with tracing on; elsewhere (``stillframe serve``, tests, the CLI) a
no-op stand-in with the same decorators keeps start-up fast.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics

SERVICE = "stillframe"
F = TypeVar("F", bound=Callable[..., Any])

logger = Logger(service=SERVICE)
metrics = Metrics(namespace="Stillframe", service=SERVICE)


class _NoTracer:
    """The decorators of Powertools' Tracer, doing nothing."""

    def capture_lambda_handler(self, *_: Any, **__: Any) -> Callable[[F], F]:
        return lambda function: function

    def capture_method(self, *_: Any, **__: Any) -> Callable[[F], F]:
        return lambda function: function


def _tracing_wanted(env: dict[str, str] | os._Environ[str]) -> bool:
    disabled = env.get("POWERTOOLS_TRACE_DISABLED", "false").lower() in ("1", "true", "yes", "on")
    return bool(env.get("AWS_LAMBDA_FUNCTION_NAME")) and not disabled


def _make_tracer() -> Any:
    if _tracing_wanted(os.environ):
        from aws_lambda_powertools import Tracer

        return Tracer(service=SERVICE)
    return _NoTracer()


tracer = _make_tracer()
