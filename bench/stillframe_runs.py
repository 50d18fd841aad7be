"""Stillframe measured four ways: the engine in-process (warm), ``stillframe serve`` over HTTP, a cold process
answering its first page, and the import time of the Lambda handler module.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bench.fixtures import STORE, StreamFixture, stream_name
from bench.s3sim import SimulatedS3
from bench.scenarios import Scenario, request_body
from bench.verify import check_frames

ENV = {
    "STILLFRAME_STORE": "local",
    "STILLFRAME_DATA_DIR": str(STORE),
    "STILLFRAME_TOKEN_SECRET": "bench",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}
Fetch = Callable[[dict[str, Any]], dict[str, Any]]


def run_engine(scenario: Scenario, fixture: StreamFixture, samples: list[int]) -> dict[str, Any]:
    """GetImages' operation in this (warm) process, page after page; fresh services (no cache) per rep.

    Method ``engine-s3sim`` puts the store behind S3-like latency (``bench.s3sim``).
    """
    os.environ.update(ENV)
    from stillframe.domain.requests import parse_get_images
    from stillframe.operations.get_images import get_images
    from stillframe.settings import Settings
    from stillframe.storage import open_store
    from stillframe.wiring import build

    settings = Settings.from_env()
    store = open_store(settings)
    if scenario.method == "engine-s3sim":
        store = SimulatedS3(store)
    decoded = _PageLog()
    logging.getLogger("stillframe.operations.get_images").addHandler(decoded)
    logging.getLogger("stillframe.operations.get_images").setLevel(logging.INFO)
    services = build(settings, store=store)

    def fetch(body: dict[str, Any]) -> dict[str, Any]:
        return get_images(
            parse_get_images(body),
            streams=services.streams,
            fragments=services.fragments,
            tokens=services.tokens,
            now_ms=int(time.time() * 1000),
            budget_s=settings.time_budget_ms / 1000,
        )

    _warm_up(scenario, fetch)
    walls, images, frames, gets = [], [], 0, {}
    for rep in range(scenario.reps):
        services = build(settings, store=store)
        decoded.frames = 0
        if isinstance(store, SimulatedS3):
            store.gets = 0
        started = time.perf_counter()
        out = _all_pages(request_body(scenario, samples), fetch)
        walls.append(time.perf_counter() - started)
        if rep == 0:
            images, frames = out, decoded.frames
            gets = {"store_gets": store.gets} if isinstance(store, SimulatedS3) else {}
    return {"wall_s": walls, "images": len(images), "frames_decoded": frames, **gets, **check_frames(images, samples)}


def run_serve(scenario: Scenario, fixture: StreamFixture, samples: list[int]) -> dict[str, Any]:
    """``stillframe serve`` in a child process, asked over HTTP (urllib); peak RSS is the server's."""
    command = [sys.executable, "-m", "stillframe.cli.main", "serve", "--data-dir", str(STORE), "--port", "0"]
    server = subprocess.Popen(command, env={**os.environ, **ENV}, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert server.stdout is not None
    url = ""
    while not url:
        line = server.stdout.readline().decode()
        if not line:
            raise RuntimeError("stillframe serve exited before listening")
        match = re.search(r"listening on (http://\S+)", line)
        url = match.group(1) if match else ""
    log = _ServerLog(server.stdout)

    def fetch(body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            url + "/getImages", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=300) as response:
            page = dict(json.loads(response.read()))
        log.asked += 1
        return page

    try:
        _warm_up(scenario, fetch)
        walls: list[float] = []
        images: list[bytes] = []
        frames = 0
        for rep in range(scenario.reps):
            log.settle()  # the warm-up's or the last rep's "page served" lines are in before counting anew
            log.frames = 0
            started = time.perf_counter()
            out = _all_pages(request_body(scenario, samples), fetch)
            walls.append(time.perf_counter() - started)
            log.settle()
            images, frames = (out, log.frames) if rep == 0 else (images, frames)
    finally:
        server.terminate()
        _, _, usage = os.wait4(server.pid, 0)
        server.returncode = 0
    return {
        "wall_s": walls,
        "images": len(images),
        "frames_decoded": frames,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        **check_frames(images, samples),
    }


def run_cold(scenario: Scenario, fixture: StreamFixture, samples: list[int]) -> dict[str, Any]:
    """A new Python process: import the handler, answer the first page (a Lambda cold start, minus the sandbox)."""
    body = request_body(scenario, samples)
    walls: list[float] = []
    imports: list[float] = []
    images: list[bytes] = []
    for _ in range(scenario.reps):
        started = time.time()
        result = _child(_COLD, json.dumps(body))
        walls.append(result["answered"] - started)
        imports.append(result["import_s"])
        images = images or [base64.b64decode(i["ImageContent"]) for i in result["page"]["Images"]]
    first = samples[: len(images)]
    return {
        "wall_s": walls,
        "images": len(images),
        "frames_decoded": None,
        "import_s": imports,
        **check_frames(images, first),
    }


def run_import(scenario: Scenario, fixture: StreamFixture, samples: list[int]) -> dict[str, Any]:
    """Import ``stillframe.handlers.api`` in a new process; media libraries must not be loaded by it."""
    walls, heavy = [], set()
    for _ in range(scenario.reps):
        result = _child(_IMPORT, "")
        walls.append(result["import_s"])
        heavy |= set(result["media_modules"])
    return {"wall_s": walls, "images": 0, "frames_decoded": None, "verified": not heavy, "media_modules": sorted(heavy)}


_COLD = """
import json, sys, time
started = time.perf_counter()
from stillframe.handlers.api import lambda_handler
import_s = time.perf_counter() - started
class Context:
    function_name, memory_limit_in_mb, aws_request_id = "bench", 2048, "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:bench"
    def get_remaining_time_in_millis(self): return 60000
event = {"resource": "/{proxy+}", "path": "/getImages", "httpMethod": "POST", "body": sys.argv[1],
         "headers": {"Content-Type": "application/json"}, "pathParameters": {"proxy": "getImages"},
         "requestContext": {"requestId": "bench", "path": "/prod/getImages", "stage": "prod"}, "isBase64Encoded": False}
response = lambda_handler(event, Context())
answered = time.time()
print(json.dumps({"answered": answered, "import_s": import_s, "page": json.loads(response["body"])}))
"""
_IMPORT = """
import json, sys, time
started = time.perf_counter()
import stillframe.handlers.api
import_s = time.perf_counter() - started
media = [name for name in ("av", "PIL", "numpy", "simplejpeg") if name in sys.modules]
print(json.dumps({"import_s": import_s, "media_modules": media}))
"""


def _child(script: str, argument: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", script, argument],
        env={**os.environ, **ENV},
        capture_output=True,
        check=True,
    )
    return dict(json.loads(done.stdout.decode().strip().splitlines()[-1]))


def _all_pages(body: dict[str, Any], fetch: Fetch) -> list[bytes]:
    """Every image of the request, following NextToken; raises on an image error."""
    images: list[bytes] = []
    while True:
        page = fetch(body)
        for image in page["Images"]:
            if "ImageContent" not in image:
                raise RuntimeError(f"image error {image.get('Error')} at {image['TimeStamp']}")
            images.append(base64.b64decode(image["ImageContent"]))
        if "NextToken" not in page:
            return images
        body = {**body, "NextToken": page["NextToken"]}


def _warm_up(scenario: Scenario, fetch: Fetch) -> None:
    """One short page from another stream: imports, pools and scalers warm, no fragment of the timed run read."""
    other = stream_name("720p", 2) if scenario.stream != stream_name("720p", 2) else stream_name("1080p", 6)
    from bench.fixtures import T0_MS

    warm = replace(scenario, stream=other, max_results=2)
    fetch(request_body(warm, [T0_MS + 40_000, T0_MS + 40_000 + scenario.interval_ms]))


class _PageLog(logging.Handler):
    """Adds up ``frames_decoded`` from the service's "page served" log records."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.frames = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.frames += int(getattr(record, "frames_decoded", 0) or 0)


class _ServerLog:
    """Reads the server's JSON log lines in a thread and adds up ``frames_decoded``, one "page served" line a page.

    The lines arrive after the answers, and later still on a loaded machine: ``settle`` waits for one line per page
    asked (``asked``) so that no page's frames are counted into the next repetition.
    """

    def __init__(self, stream: Any) -> None:
        self.frames = self.pages = self.asked = 0
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def settle(self, timeout_s: float = 10.0) -> None:
        """Wait until every page asked so far has logged its line."""
        give_up = time.monotonic() + timeout_s
        while self.pages < self.asked and time.monotonic() < give_up:
            time.sleep(0.01)

    def _read(self, stream: Any) -> None:
        for raw in stream:
            line = raw.decode(errors="replace")
            if "frames_decoded" in line:
                try:
                    self.frames += int(json.loads(line).get("frames_decoded", 0))
                except ValueError:
                    continue
                self.pages += 1
