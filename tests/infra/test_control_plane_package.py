"""The premise of the zip control-plane function: its routes work with the layer's packages only.

The zip function has the stillframe package and the layer (Powertools, boto3), but no PyAV, Pillow, numpy
or simplejpeg. This runs the API handler in a Python that refuses to import those, on API Gateway events
shaped as the deployed API sends them (binary media types make even JSON bodies arrive base64-encoded).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.infra.cdk_helpers import ROOT

SCRIPT = r"""
import base64, copy, importlib.abc, json, sys, types

class RefuseMediaStack(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {"av", "PIL", "numpy", "simplejpeg"}:
            raise ImportError("not in the control-plane layer: " + name)
        return None

sys.meta_path.insert(0, RefuseMediaStack())
from stillframe.handlers.api import lambda_handler

template = json.load(open(sys.argv[1]))
context = types.SimpleNamespace(
    function_name="control-plane", memory_limit_in_mb=1024, aws_request_id="req-1",
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:control-plane",
)

def call(operation, body):
    event = copy.deepcopy(template)
    event["path"] = "/" + operation
    event["resource"] = "/" + operation
    event["requestContext"]["path"] = "/prod/" + operation
    event["requestContext"]["resourcePath"] = "/" + operation
    event["pathParameters"] = None
    event["body"] = base64.b64encode(json.dumps(body).encode()).decode()
    event["isBase64Encoded"] = True
    response = lambda_handler(event, context)
    return {"status": response["statusCode"], "body": json.loads(response["body"] or "null")}

results = {
    "create": call("createStream", {"StreamName": "lobby", "DataRetentionInHours": 24}),
    "list": call("listStreams", {}),
    "endpoint": call("getDataEndpoint", {"StreamName": "lobby", "APIName": "GET_IMAGES"}),
    "unknown": call("noSuchOperation", {}),
    "loaded": sorted(m for m in sys.modules if m.split(".")[0] in {"av", "PIL", "numpy", "simplejpeg"}),
}
print(json.dumps(results))
"""


def test_control_plane_routes_run_without_the_media_stack(tmp_path: Path) -> None:
    # Given the handler in a Python without PyAV, Pillow, numpy and simplejpeg, over a local store
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT / "lambda_src"),
        "STILLFRAME_STORE": "local",
        "STILLFRAME_DATA_DIR": str(tmp_path / "data"),
        "STILLFRAME_TOKEN_SECRET": "test-secret",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "Stillframe",
    }
    event_file = ROOT / "tests" / "events" / "rest_api_event.json"
    # When control-plane operations arrive as API Gateway proxy events with base64 JSON bodies
    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(event_file)], capture_output=True, text=True, env=env, timeout=120
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = json.loads(completed.stdout.strip().splitlines()[-1])
    # Then they succeed, and nothing of the media stack was imported
    assert results["create"]["status"] == 200, results["create"]
    assert [s["StreamName"] for s in results["list"]["body"]["StreamInfoList"]] == ["lobby"]
    assert results["endpoint"]["status"] == 200
    # (the data endpoint keeps the stage: boto3 clients built on it must reach the same API)
    assert results["endpoint"]["body"]["DataEndpoint"] == "https://abc123defg.execute-api.us-east-1.amazonaws.com/prod"
    assert results["loaded"] == []
    # And an unknown operation answers 404 UnknownOperationException (the API's catch-all route sends it here)
    assert results["unknown"]["status"] == 404
    assert results["unknown"]["body"]["__type"] == "UnknownOperationException"
