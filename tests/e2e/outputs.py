"""Write the values a client needs for a deployed e2e stack as JSON (``.e2e/outputs.json``), from CDK's outputs file.

``ApiUrl`` is the stack's own output when its host resolves (a laptop with public DNS: LocalStack's
``*.execute-api.localhost.localstack.cloud`` names resolve to 127.0.0.1), else LocalStack's path form
``https://localhost:<port>/_aws/execute-api/<api id>/<stage>/`` on the same port, which needs no DNS.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit


def reachable_api_url(api_url: str) -> str:
    """The stack's ApiUrl if its host name resolves here, else LocalStack's path form of the same API."""
    parts = urlsplit(api_url)
    host = parts.hostname or ""
    try:
        socket.getaddrinfo(host, parts.port or 443)
        return api_url
    except OSError:
        pass
    api_id = host.split(".", 1)[0]
    port = f":{parts.port}" if parts.port else ""
    return f"https://localhost{port}/_aws/execute-api/{api_id}{parts.path}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cdk-outputs", type=Path, required=True)
    parser.add_argument("--stack", required=True)
    parser.add_argument("--key", default="{}", help="JSON from `stillframe keys create --json`")
    parser.add_argument("--ca-bundle", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--localstack-endpoint", required=True)
    args = parser.parse_args(argv)
    stack_outputs = json.loads(args.cdk_outputs.read_text())[args.stack]
    key = json.loads(args.key)
    outputs = {
        "ApiUrl": reachable_api_url(stack_outputs["ApiUrl"]),
        "StackApiUrl": stack_outputs["ApiUrl"],
        "CaBundle": args.ca_bundle,
        "Region": args.region,
        "StackName": args.stack,
        "LocalStackEndpoint": args.localstack_endpoint,
        **{name: value for name, value in stack_outputs.items() if name != "ApiUrl"},
    }
    if key:
        outputs["AccessKeyId"] = key["AccessKeyId"]
        outputs["SecretAccessKey"] = key["SecretAccessKey"]
    json.dump(outputs, sys.stdout, indent=2, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
