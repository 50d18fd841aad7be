"""Build the streams of ``bench.scale`` cheaply and honestly.

One real clip (2 s, one GOP: one fragment) is sent through a running `stillframe serve`'s PutMedia; its fragment
is then replicated backwards in time, in both timelines, through ``FragmentIndex.add`` (claim, pending record,
blob, markers: the write path ingest uses, so the layout is exactly what ingest makes), with fragment numbers made
as ingest makes them. Every copy holds the same frames, so a still's frame number says where in its fragment it
was taken, whatever the fragment. Stream records for the ListStreams rows are made with ``StreamCatalog.create``.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from stillframe.catalog.fragments import FragmentIndex
from stillframe.catalog.keys import FragmentRecord
from stillframe.catalog.streams import StreamCatalog
from stillframe.ingest.service import fragment_number
from stillframe.storage.port import ObjectStore

FPS = 25
FRAGMENT_MS = 2000
RETENTION_HOURS = 87_600  # ten years: the replicated history lies days in the past
END_PRODUCER_MS = 1_767_225_600_000  # the real clip's producer start: 2026-01-01T00:00:00Z
BUILD_PROCESSES = 2
BUILD_THREADS = {"local": 8, "s3": 24}


@dataclass(frozen=True)
class StoreSpec:
    """Where a store lives: a local directory, or a bucket and prefix (S3 endpoint from the environment)."""

    kind: str
    root: str = ""
    bucket: str = ""
    prefix: str = ""

    def open(self) -> ObjectStore:
        if self.kind == "local":
            from stillframe.storage.local import LocalDirectoryStore

            return LocalDirectoryStore(self.root)
        from stillframe.storage.s3 import S3Store

        return S3Store(self.bucket, self.prefix)

    def serve_args(self) -> list[str]:
        if self.kind == "local":
            return ["--data-dir", self.root]
        return ["--bucket", self.bucket, "--prefix", self.prefix]


def clip() -> bytes:
    """The one real clip: 2 s at 25 fps, 320x240, one closed GOP; frame N shows N."""
    from tests.support.synth import make_clip

    return make_clip(frames=FRAGMENT_MS * FPS // 1000, fps=FPS, width=320, height=240, gop=50)


def put_media(endpoint: str, stream: str, media: bytes, producer_ms: int) -> list[dict[str, Any]]:
    """PutMedia over HTTP, as a producer sends it; returns the acks (each must be PERSISTED)."""
    parts = urlsplit(endpoint)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=60)
    headers = {
        "x-amzn-stream-name": stream,
        "x-amzn-fragment-timecode-type": "RELATIVE",
        "x-amzn-producer-start-timestamp": f"{producer_ms / 1000:.3f}",
        "Content-Type": "application/octet-stream",
    }
    conn.request("POST", "/putMedia", body=media, headers=headers)
    response = conn.getresponse()
    text = response.read().decode()
    conn.close()
    acks = [json.loads(line) for line in text.splitlines() if line.strip()]
    if response.status != 200 or any(ack.get("EventType") != "PERSISTED" for ack in acks):
        raise RuntimeError(f"PutMedia to {stream} failed: {response.status} {text[:300]}")
    return acks


def ingested(spec: StoreSpec, stream: str) -> tuple[str, FragmentRecord]:
    """The stream's media id and its one (real) fragment."""
    store = spec.open()
    record = StreamCatalog(store, region="us-east-1", account_id="000000000000").load(stream)
    if record is None:
        raise RuntimeError(f"stream {stream} is missing")
    found = [fragment for _, fragment in FragmentIndex(store).scan(record.media_id, "producer", 0, 10**13 - 1)]
    if len(found) != 1:
        raise RuntimeError(f"stream {stream} should hold the one real fragment, holds {len(found)}")
    return record.media_id, found[0]


def replicate(spec: StoreSpec, original: FragmentRecord, total: int) -> None:
    """Add copies 1..total-1 of ``original``, each FRAGMENT_MS earlier than the one after it."""
    shifts = range(1, total)
    chunks = [list(shifts[i::BUILD_PROCESSES]) for i in range(BUILD_PROCESSES)]
    # spawn, not fork: a forked child would share the parent's S3 connections (and read each other's answers)
    with ProcessPoolExecutor(BUILD_PROCESSES, mp_context=multiprocessing.get_context("spawn")) as pool:
        for done in pool.map(_replicate_chunk, [(spec, original, chunk) for chunk in chunks]):
            if done is not None:
                raise RuntimeError(done)


def _replicate_chunk(args: tuple[StoreSpec, FragmentRecord, list[int]]) -> str | None:
    spec, original, shifts = args
    store = spec.open()
    index = FragmentIndex(store, blob_cache_bytes=0)
    data = store.get(original.blob_key)

    def add(shift: int) -> None:
        server_ms = original.server_ms - shift * FRAGMENT_MS
        copy = FragmentRecord(
            stream=original.stream,
            number=fragment_number(server_ms, 0),
            server_ms=server_ms,
            producer_ms=original.producer_ms - shift * FRAGMENT_MS,
            duration_ms=original.duration_ms,
            size=len(data),
        )
        index.add(copy, data)

    with ThreadPoolExecutor(BUILD_THREADS[spec.kind]) as threads:
        list(threads.map(add, shifts))
    return None


def make_streams(spec: StoreSpec, first: int, count: int) -> None:
    """Empty streams ``list-00000``... (records only, as CreateStream writes them)."""
    catalog = StreamCatalog(spec.open(), region="us-east-1", account_id="000000000000")

    def create(number: int) -> None:
        catalog.create(f"list-{number:05d}", retention_hours=1)

    with ThreadPoolExecutor(BUILD_THREADS[spec.kind] * 2) as threads:
        list(threads.map(create, range(first, first + count)))
