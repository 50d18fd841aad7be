"""API Gateway's binary media rule for Lambda proxy answers as AWS applies it, in place of LocalStack 4.9.x's.

A proxy answer with ``isBase64Encoded`` goes out as bytes when the request's first Accept type matches one of the
API's binaryMediaTypes; an entry ``*/*`` matches every request, one without Accept included (AWS's advice for
clients that cannot choose their Accept header, and what unmodified SDK clients need: botocore, so boto3 and the
AWS CLI, sends no Accept). LocalStack 4.9.2 skips ``*/*`` entries and matches nothing
without Accept, so those clients got the base64 text as the media. Only the proxy response is changed: request
bodies still follow LocalStack's rule (AWS would base64-encode every request body under ``*/*``).
"""

from __future__ import annotations

from localstack.services.apigateway.next_gen.execute_api import helpers
from localstack.services.apigateway.next_gen.execute_api.integrations import aws

ANY = "*/*"
_localstack_rule = helpers.mime_type_matches_binary_media_types


def matches_like_aws(mime_type: str | None, binary_media_types: list[str]) -> bool:
    """True when an answer to a request accepting ``mime_type`` is binary under ``binary_media_types``."""
    if any(entry.split(";")[0].strip() == ANY for entry in binary_media_types or []):
        return True
    return bool(_localstack_rule(mime_type=mime_type, binary_media_types=binary_media_types))


def install() -> None:
    """Use AWS's rule where LocalStack's AWS_PROXY integration decides whether to decode a Lambda's answer."""
    aws.mime_type_matches_binary_media_types = matches_like_aws  # type: ignore[attr-defined]
