"""Calls through the handler (the `invoke` fixture) that many functional tests share."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from tests.support.synth import read_frame_number

Invoke = Callable[..., dict[str, Any]]


def acks(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The PutMedia ack stream (one JSON object per line) as a list."""
    body = answer["body"]
    return [body] if isinstance(body, dict) else [json.loads(line) for line in body.splitlines()]


def put_media(invoke: Invoke, stream: str, media: bytes, producer_start: float) -> list[dict[str, Any]]:
    """PutMedia with RELATIVE timecodes from ``producer_start`` (epoch seconds); asserts a 200."""
    answer = invoke(
        "/putMedia",
        media,
        headers={
            "x-amzn-stream-name": stream,
            "x-amzn-producer-start-timestamp": f"{producer_start:.3f}",
            "x-amzn-fragment-timecode-type": "RELATIVE",
        },
    )
    assert answer["status"] == 200, answer
    return acks(answer)


def get_images(invoke: Invoke, stream: str, start: float, end: float, interval_ms: int = 1000, **extra: Any) -> dict:
    """One GetImages page (JPEG, producer timeline unless overridden); asserts a 200."""
    body = {
        "StreamName": stream,
        "ImageSelectorType": "PRODUCER_TIMESTAMP",
        "StartTimestamp": start,
        "EndTimestamp": end,
        "SamplingInterval": interval_ms,
        "Format": "JPEG",
        **extra,
    }
    answer = invoke("/getImages", body)
    assert answer["status"] == 200, answer
    return answer["body"]


def frame_numbers(page: dict[str, Any]) -> list[int | str]:
    """The frame number drawn in each still, or its Error."""
    return [
        read_frame_number(base64.b64decode(i["ImageContent"])) if "ImageContent" in i else i["Error"]
        for i in page["Images"]
    ]
