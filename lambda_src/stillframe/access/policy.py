"""What an authenticated key may do: which operations (read-only keys) and which streams (prefix-limited keys).

The operation is the route path the resolver runs (the event's ``path``, ``/getImages`` -> GetImages). The streams
are every StreamName, StreamARN and ResourceARN (the ``*Resource`` tag operations) in a JSON body, or PutMedia's
``x-amzn-stream-name`` and ``x-amzn-stream-arn`` headers; each must fall under one of the key's prefixes.
ListStreams names no stream: a prefix-limited key may call it and sees only its own streams (``visible_streams``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from stillframe.access.keystore import AccessKey
from stillframe.errors import NotAuthorizedError

OPERATIONS = {
    "createStream": "CreateStream",
    "describeStream": "DescribeStream",
    "listStreams": "ListStreams",
    "deleteStream": "DeleteStream",
    "getDataEndpoint": "GetDataEndpoint",
    "getImages": "GetImages",
    "listFragments": "ListFragments",
    "putMedia": "PutMedia",
    "updateDataRetention": "UpdateDataRetention",
    "updateStream": "UpdateStream",
    "tagStream": "TagStream",
    "untagStream": "UntagStream",
    "listTagsForStream": "ListTagsForStream",
    "TagResource": "TagResource",
    "UntagResource": "UntagResource",
    "ListTagsForResource": "ListTagsForResource",
    "updateImageGenerationConfiguration": "UpdateImageGenerationConfiguration",
    "describeImageGenerationConfiguration": "DescribeImageGenerationConfiguration",
}
READ_OPERATIONS = frozenset(
    {
        "DescribeStream",
        "ListStreams",
        "GetDataEndpoint",
        "GetImages",
        "ListFragments",
        "ListTagsForStream",
        "ListTagsForResource",
        "DescribeImageGenerationConfiguration",
    }
)
LIST_STREAMS = "ListStreams"
PUT_MEDIA = "PutMedia"
ARN_HEADER = "x-amzn-stream-arn"
STREAM_HEADERS = ("x-amzn-stream-name", ARN_HEADER)


def operation_for(path: str) -> str | None:
    """The KVS operation of a route path (the event's ``path``, ``/getImages``), or None for any other path.

    Exact, as the resolver's routing is: a path that is no route is no operation (a read-only key may not call it).
    """
    return OPERATIONS.get(path[1:]) if path.startswith("/") else None


def streams_named(operation: str | None, headers: Mapping[str, list[str]], body: bytes | None) -> list[str | None]:
    """Every stream the request names; None for a reference whose stream cannot be told (a junk ARN or body)."""
    if operation == PUT_MEDIA:
        return [_name_of(value, arn=name == ARN_HEADER) for name in STREAM_HEADERS for value in headers.get(name, [])]
    try:
        document = json.loads(body) if body and body.strip() else {}
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: absurdly nested JSON
        return [None]
    if not isinstance(document, dict):
        return [None]
    found: list[str | None] = []
    for field, is_arn in (("StreamName", False), ("StreamARN", True), ("ResourceARN", True)):
        value = document.get(field)
        if value is not None:
            found.append(_name_of(value, arn=is_arn) if isinstance(value, str) else None)
    return found


def authorize(key: AccessKey, operation: str | None, streams: Iterable[str | None]) -> None:
    """Return if ``key`` may make this request; NotAuthorizedError saying why not."""
    if key.read_only and operation not in READ_OPERATIONS:
        what = operation or "this request"
        raise NotAuthorizedError(
            f"Access key {key.access_key_id} is read-only: it may call "
            f"{', '.join(sorted(READ_OPERATIONS))}, not {what}."
        )
    if key.stream_prefixes is None:
        return
    for stream in streams:
        if stream is None:
            raise NotAuthorizedError(
                f"Access key {key.access_key_id} is limited to some streams, and this request does not say "
                "clearly which stream it is for."
            )
        if not key.covers_stream(stream):
            raise NotAuthorizedError(
                f"Access key {key.access_key_id} may not use stream {stream!r}: it is limited to streams "
                f"starting with {', '.join(repr(p) for p in key.stream_prefixes)}."
            )


def visible_streams(key: AccessKey, list_streams_body: str) -> str:
    """A ListStreams answer with only the streams ``key`` covers (the body unchanged when it covers all)."""
    if key.stream_prefixes is None:
        return list_streams_body
    try:
        answer: Any = json.loads(list_streams_body)
    except ValueError:
        return list_streams_body  # an error answer: nothing to hide
    if not isinstance(answer, dict) or not isinstance(answer.get("StreamInfoList"), list):
        return list_streams_body
    answer["StreamInfoList"] = [
        info
        for info in answer["StreamInfoList"]
        if isinstance(info, dict) and key.covers_stream(str(info.get("StreamName", "")))
    ]
    return json.dumps(answer)


def _name_of(value: str, *, arn: bool) -> str | None:
    if not arn:
        return value
    parts = value.split("/")  # arn:aws:kinesisvideo:<region>:<account>:stream/<name>/<creation ms>
    return parts[1] if len(parts) >= 2 and parts[1] else None
