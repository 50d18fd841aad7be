"""Cold start: importing the API handler must not load the media stack, boto3 or the X-Ray SDK."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ["av", "PIL", "numpy", "simplejpeg", "boto3", "aws_xray_sdk"]


def loaded_after_import(module: str, env: dict[str, str] | None = None) -> list[str]:
    code = f"import sys, json, {module}; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_handler_import_loads_nothing_heavy():
    assert loaded_after_import("stillframe.handlers.api") == []


def test_tracing_inside_lambda_uses_the_xray_sdk():
    import os

    env = {**os.environ, "AWS_LAMBDA_FUNCTION_NAME": "stillframe-api", "POWERTOOLS_TRACE_DISABLED": "false"}
    assert "aws_xray_sdk" in loaded_after_import("stillframe.handlers.api", env)
