"""The three ingest doors over the ``invoke`` fixture, so one test can check each: PutMedia body, put-media, drop zone.

``put-media`` runs the real client path (``stillframe.uploader.upload`` with the real splitter, which sends Matroska
chunks that the server splits again) with a poster that hands each request to the handler instead of a socket.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

from stillframe.uploader import HttpReply, PutMediaTarget, upload
from tests.conftest import FakeContext
from tests.support.kvs import Invoke, put_media

DOORS = ("body", "put-media", "drop-zone")


class HandlerPoster:
    """Stands in for ``PutMediaPoster``: each POST goes through the handler."""

    url = "handler:/putMedia"

    def __init__(self, invoke: Invoke) -> None:
        self.invoke = invoke

    def post(self, headers: dict[str, str], body: bytes) -> HttpReply:
        answer = self.invoke("/putMedia", body, headers=headers)
        payload = answer["body"]
        text = payload if isinstance(payload, str) else json.dumps(payload)
        return HttpReply(answer["status"], text.encode(), answer["headers"].get("x-amzn-ErrorType", ""))

    def close(self) -> None:
        pass


def ingest(door: str, invoke: Invoke, stream: str, media: bytes, producer_start: int, tmp_path: Path) -> list[Any]:
    """Send ``media`` to ``stream`` through ``door``, RELATIVE timecodes from ``producer_start`` (epoch s)."""
    if door == "body":
        return put_media(invoke, stream, media, producer_start)
    if door == "put-media":
        from stillframe.media.split import iter_fragments

        source = tmp_path / "upload.media"
        source.write_bytes(media)
        target = PutMediaTarget(stream, producer_start * 1000)
        results = upload(str(source), target, HandlerPoster(invoke), splitter=iter_fragments)  # type: ignore[arg-type]
        return [ack for result in results for ack in result.acks]
    if door == "drop-zone":
        from stillframe.handlers.dropzone import lambda_handler

        svc = invoke.services  # type: ignore[attr-defined]
        key = f"incoming/{stream}/{producer_start}_upload.media"
        svc.store.put(key, media)
        record = {"eventTime": "2026-11-26T10:00:00.000Z", "s3": {"object": {"key": svc.settings.prefix + key}}}
        return [lambda_handler({"Records": [record]}, FakeContext(), svc=svc)]
    raise ValueError(f"unknown door {door!r}")


def still_size(image: dict[str, Any]) -> tuple[int, int]:
    """Width and height of one GetImages image."""
    from PIL import Image

    return Image.open(io.BytesIO(base64.b64decode(image["ImageContent"]))).size
