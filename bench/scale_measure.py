"""One measuring session of ``bench.scale``: a fresh `stillframe serve`, real boto3 clients (keep-alive), timings.

Each session starts its own server, so its peak RSS belongs to that session's stream alone. On S3 the server counts
the requests it sends (``bench.scale_server``); each call's count is the lines it added to the counter file.
"""

from __future__ import annotations

import base64
import functools
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from bench.scale_build import END_PRODUCER_MS, FPS, FRAGMENT_MS, StoreSpec, clip, put_media
from bench.scale_server import COUNTER_ENV
from stillframe.catalog.fragments import FragmentIndex
from stillframe.catalog.keys import STREAM_SUMMARIES_KEY
from stillframe.catalog.streams import StreamCatalog
from stillframe.domain.stream_requests import ListStreamsRequest
from stillframe.domain.token import TokenCodec
from stillframe.operations.list_streams import list_streams
from stillframe.storage.port import ObjectStore

ROOT = Path(__file__).resolve().parent.parent
PAGE_IMAGES = 25
WARM_REPEATS = 5


class Server:
    """A running `stillframe serve` (through ``bench.scale_server``) and its S3 request counter."""

    def __init__(self, process: subprocess.Popen[str], url: str, counter: Path) -> None:
        self.process, self.url, self.counter = process, url, counter
        self.swept = threading.Event()

    def requests(self) -> int:
        """S3 requests sent so far (0 on the local store)."""
        try:
            return self.counter.read_bytes().count(b"\n")
        except FileNotFoundError:
            return 0

    def memory_mb(self) -> dict[str, float]:
        """VmRSS and VmHWM of the server process, MB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        return {name: round(int(fields[name].split()[0]) / 1024, 1) for name in ("VmRSS", "VmHWM")}

    def client(self, service: str) -> Any:
        config = Config(retries={"max_attempts": 1}, read_timeout=120, max_pool_connections=1)
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=config,
        )


@contextmanager
def running(spec: StoreSpec, env: dict[str, str], *, cpus: str | None = None) -> Iterator[Server]:
    """A fresh server over the store; waits for its start-up sweep so that its requests count for nothing.

    ``cpus``: pin the server to these cores (``taskset -c``, which execs it: the pid stays the server's).
    """
    counter = Path(tempfile.mkstemp(prefix="s3-requests-")[1])
    pinned = ["taskset", "-c", cpus] if cpus else []
    command = [*pinned, sys.executable, "-m", "bench.scale_server", "serve", "--port", "0", *spec.serve_args()]
    environment = {**os.environ, **env, COUNTER_ENV: str(counter), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    url = ""
    for line in process.stdout:
        if "listening on " in line:
            url = line.split("listening on ", 1)[1].split()[0]
            break
    if not url:
        raise RuntimeError("stillframe serve did not start")
    server = Server(process, url, counter)
    threading.Thread(target=_watch, args=(process, server), daemon=True).start()
    if not server.swept.wait(300):
        raise RuntimeError("the start-up sweep did not finish")
    try:
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        counter.unlink(missing_ok=True)


def _watch(process: subprocess.Popen[str], server: Server) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("start-up sweep") or "start-up sweep of crash leftovers failed" in line:
            server.swept.set()


def timed(server: Server, call: Callable[[], Any]) -> tuple[float, int, Any]:
    """(seconds, S3 requests, result) of one call."""
    before = server.requests()
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, server.requests() - before, result


def fragments_session(
    server: Server, stream: str, fragments: int, *, delete: bool, spec: StoreSpec | None = None
) -> dict[str, Any]:
    """Every per-stream row for one stream of ``fragments`` fragments (the last one the real clip).

    With ``spec``, each page position also gets ``lookup_s``: the page's index lookup alone (the same
    ``FragmentIndex`` call, from this process, fastest of 5), which on LocalStack is mostly its ListObjectsV2.
    """
    media = server.client("kinesis-video-archived-media")
    control = server.client("kinesisvideo")
    first_ms = END_PRODUCER_MS - (fragments - 1) * FRAGMENT_MS
    out: dict[str, Any] = {"fragments": fragments, "pages": {}, "wrong_frames": 0, "checked_frames": 0}
    positions = {
        "start": first_ms,
        "middle": first_ms + (fragments // 2) * FRAGMENT_MS,
        "end": END_PRODUCER_MS - 48_000,
    }
    for name, at_ms in positions.items():
        runs = [timed(server, functools.partial(_page, media, stream, at_ms)) for _ in range(1 + WARM_REPEATS)]
        for _, _, (images, start_ms) in runs[:2]:
            out["wrong_frames"] += _wrong_frames(images, start_ms)
            out["checked_frames"] += len(images)
        warm = runs[1:]
        out["pages"][name] = {
            "cold_s": round(runs[0][0], 4),
            "cold_s3_requests": runs[0][1],
            # The fastest warm repeat: other work on the machine only ever adds time, and a page is ~0.1 s here.
            "warm_s": round(min(r[0] for r in warm), 4),
            "warm_median_s": round(statistics.median(r[0] for r in warm), 4),
            "warm_s3_requests": max(r[1] for r in warm),
            "images": len(runs[0][2][0]),
        }
        if spec is not None:
            out["pages"][name]["lookup_s"] = _lookup_s(spec, stream, at_ms)
    out["page_warm_s"] = round(statistics.median(p["warm_s"] for p in out["pages"].values()), 4)
    if spec is not None:
        out["page_lookup_s"] = round(statistics.median(p["lookup_s"] for p in out["pages"].values()), 4)
    out["page_warm_s3_requests"] = max(p["warm_s3_requests"] for p in out["pages"].values())
    out["list_60s"] = _best(server, WARM_REPEATS, lambda: _list_range(media, stream, positions["middle"]))
    seconds, requests, (listed, pages) = timed(server, lambda: _list_all(media, stream))
    if listed != fragments:
        raise RuntimeError(f"full ListFragments of {stream} listed {listed} fragments, not {fragments}")
    out["list_all"] = {"s": round(seconds, 3), "s3_requests": requests, "pages": pages, "fragments": listed}
    out["list_all_us_per_fragment"] = round(seconds / listed * 1e6, 2)
    out["describe"] = _best(server, 20, lambda: control.describe_stream(StreamName=stream) and None)
    seconds, requests, _ = timed(server, lambda: put_media(server.url, stream, clip(), END_PRODUCER_MS + FRAGMENT_MS))
    out["put_media"] = {"s": round(seconds, 4), "s3_requests": requests}
    out["memory_mb"] = server.memory_mb()
    if delete:
        arn = control.describe_stream(StreamName=stream)["StreamInfo"]["StreamARN"]
        seconds, requests, _ = timed(server, lambda: control.delete_stream(StreamARN=arn))
        out["delete"] = {"s": round(seconds, 3), "s3_requests": requests, "fragments": fragments + 1}
    return out


def cold_listings(spec: StoreSpec, streams: int) -> dict[str, Any]:
    """ListStreams' operation in this process, as cold functions meet it: first with no saved summaries and no
    process that has read the records (``serve``'s start-up sweep would have), so every record is read once, its
    pages stopping at the time budget with a NextToken; then in another fresh catalog, from the summaries the
    first saved. Each figure is a whole pagination."""
    store = spec.open()
    store.delete(STREAM_SUMMARIES_KEY)
    return {"first": _cold_pagination(store, streams), "saved": _cold_pagination(store, streams)}


def _cold_pagination(store: ObjectStore, streams: int) -> dict[str, Any]:
    catalog = StreamCatalog(store, region="us-east-1", account_id="000000000000")
    tokens = TokenCodec(b"bench-scale")
    started = time.perf_counter()
    listed, pages, token = 0, 0, None
    while pages == 0 or token:
        body = {"MaxResults": 10_000, **({"NextToken": token} if token else {})}
        answer = list_streams(ListStreamsRequest.model_validate(body), streams=catalog, tokens=tokens)
        listed, pages, token = listed + len(answer["StreamInfoList"]), pages + 1, answer.get("NextToken")
    if listed != streams:
        raise RuntimeError(f"ListStreams did not list {streams} streams")
    return {"s": round(time.perf_counter() - started, 3), "pages": pages}


def streams_session(server: Server, streams: int) -> dict[str, Any]:
    """ListStreams over every stream (the paginator, as a client walks them) in a fresh server process (a cold
    Lambda: the summaries another process saved, nothing in memory), then again in the same process (warm)."""
    cold_s, cold_requests, (listed, pages) = timed(server, lambda: _every_stream(server))
    warm = _best(server, 2, lambda: _every_stream(server))
    if listed != streams or warm.pop("result")[0] != streams:
        raise RuntimeError(f"ListStreams did not list {streams} streams")
    return {
        "streams": streams,
        "s": round(cold_s, 4),
        "s3_requests": cold_requests,
        "pages": pages,
        "warm": warm,
        "memory_mb": server.memory_mb(),
    }


def _every_stream(server: Server) -> tuple[int, int]:
    """(streams listed, pages) of a whole ListStreams pagination."""
    pages = server.client("kinesisvideo").get_paginator("list_streams").paginate(PaginationConfig={"PageSize": 10_000})
    sizes = [len(page["StreamInfoList"]) for page in pages]
    return sum(sizes), len(sizes)


def _best(server: Server, repeats: int, call: Callable[[], Any]) -> dict[str, Any]:
    runs = [timed(server, call) for _ in range(repeats)]
    return {
        "s": round(statistics.median(r[0] for r in runs), 4),
        "s3_requests": max(r[1] for r in runs),
        "result": runs[-1][2],
    }


def _lookup_s(spec: StoreSpec, stream: str, at_ms: int) -> float:
    """The index lookup a page at ``at_ms`` makes (``FragmentIndex.covering_candidates``), fastest of 5."""
    store = spec.open()
    media_id = StreamCatalog(store, region="us-east-1", account_id="000000000000").find(stream).media_id
    index = FragmentIndex(store)
    start_ms = at_ms + 200
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        index.covering_candidates(media_id, "producer", start_ms, start_ms + (PAGE_IMAGES - 1) * 1000)
        runs.append(time.perf_counter() - started)
    return round(min(runs), 4)


def _page(media: Any, stream: str, at_ms: int) -> tuple[list[dict[str, Any]], int]:
    start_ms = at_ms + 200  # frame 5 of a fragment, then alternately frame 30 and 5
    answer = media.get_images(
        StreamName=stream,
        ImageSelectorType="PRODUCER_TIMESTAMP",
        StartTimestamp=start_ms / 1000,
        EndTimestamp=(start_ms + (PAGE_IMAGES - 1) * 1000) / 1000,
        SamplingInterval=1000,
        Format="JPEG",
        MaxResults=PAGE_IMAGES,
    )
    return answer["Images"], start_ms


def _wrong_frames(images: list[dict[str, Any]], start_ms: int) -> int:
    """How many stills do not show the frame the sample time names (or are missing)."""
    from tests.support.synth import read_frame_number

    wrong = 0 if len(images) == PAGE_IMAGES else PAGE_IMAGES - len(images)
    for k, image in enumerate(images):
        offset_ms = (start_ms + k * 1000 - END_PRODUCER_MS) % FRAGMENT_MS
        content = image.get("ImageContent")
        try:
            shown = read_frame_number(base64.b64decode(content)) if content else None
        except ValueError:
            shown = None
        wrong += shown != offset_ms * FPS // 1000
    return wrong


def _list_range(media: Any, stream: str, at_ms: int) -> int:
    selector = {
        "FragmentSelectorType": "PRODUCER_TIMESTAMP",
        "TimestampRange": {"StartTimestamp": at_ms / 1000, "EndTimestamp": (at_ms + 60_000) / 1000},
    }
    return len(media.list_fragments(StreamName=stream, FragmentSelector=selector, MaxResults=1000)["Fragments"])


def _list_all(media: Any, stream: str) -> tuple[int, int]:
    listed = pages = 0
    token: str | None = None
    while True:
        extra = {"NextToken": token} if token else {}
        answer = media.list_fragments(StreamName=stream, MaxResults=1000, **extra)
        listed, pages = listed + len(answer["Fragments"]), pages + 1
        token = answer.get("NextToken")
        if not token:
            return listed, pages
