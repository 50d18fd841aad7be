"""``python -m bench.hostile``: what hostile media costs one GetImages (issue 18, items 3 and 4).

Memory: each clip is ingested through PutMedia, then one 5-sample GetImages page (PNG, then JPEG, original size)
runs in a fresh process whose peak RSS is read from ``getrusage``; "added" is that peak minus the RSS just before
the page, after the same process served a 1-sample warm-up page of another stream. Every row is also given as a
ratio to the normal 1080p page of the same run, so runs of different checkouts compare.

Decode time: a 1080p clip at 1000 fps whose single GOP lasts 19.9 s (as in the issue) is stored, bypassing the
ingest cap (a fragment stored before the cap existed), and served by a real ``stillframe serve`` with a 3.5 s
budget. Two requests for a sample at its end run at once while another client asks for one small still of a normal
stream, one request after another while they run: its latency alone and meanwhile (median, max), and what the
hostile requests answered; once with serve's default admission (requests in the handler at once: one per core,
here two), once with one slot more. The same clip sent through PutMedia shows what ingest says about it now.

Run against another checkout with ``PYTHONPATH=<checkout>/lambda_src:.`` for "before" figures. Not part of
``make bench``: the "before" memory rows of a checkout without the size bound need several GB.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

from tests.support.hostile import plain_clip

T0 = 1_795_600_800
# name -> what plain_clip makes: 1 s at 25 fps (five samples at 200 ms), one GOP
MEMORY_CASES: dict[str, dict[str, Any]] = {
    "normal 1920x1080": {"width": 1920, "height": 1080},
    "64x16384 SAR 250:1 (H.264 VUI)": {"width": 64, "height": 16384, "sar": Fraction(250), "container": "mp4"},
    "64x16384 SAR 250:1 (Matroska)": {"width": 64, "height": 16384, "sar": Fraction(250)},
    "8K coded 7680x4320": {"width": 7680, "height": 4320},
}
HOSTILE_FPS, HOSTILE_FRAMES = 1000, 19_900
# serve's GetImages budget is this plus its 5 s Lambda margin, minus the 2.5 s a page keeps to answer: 3.5 s
TIME_BUDGET_MS = 1000
# serve's own admission (requests in the handler at once) first, then one more slot than the two hostile requests
ADMISSIONS = ([], ["--max-concurrent-requests", "3"])


def _services(data_dir: str) -> Any:
    from stillframe.settings import Settings
    from stillframe.wiring import build_services

    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    return build_services(Settings(store="local", data_dir=data_dir, token_secret="bench-secret"))


def _call(svc: Any, path: str, body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    from stillframe.handlers.api import lambda_handler
    from tests.conftest import FakeContext, decoded, rest_event

    return decoded(lambda_handler(rest_event(path, body, headers), FakeContext(), svc=svc))


def _ingest(svc: Any, stream: str, media: bytes) -> list[Any]:
    _call(svc, "/createStream", {"StreamName": stream, "DataRetentionInHours": 24})
    headers = {"x-amzn-stream-name": stream, "x-amzn-producer-start-timestamp": str(T0)}
    answer = _call(svc, "/putMedia", media, headers)
    body = answer["body"]
    if answer["status"] != 200:
        return [body]
    return [body] if isinstance(body, dict) else [json.loads(line) for line in body.splitlines()]


def _page(svc: Any, stream: str, image_format: str, end: float) -> dict[str, Any]:
    body = {
        "StreamName": stream,
        "ImageSelectorType": "PRODUCER_TIMESTAMP",
        "StartTimestamp": T0,
        "EndTimestamp": end,
        "SamplingInterval": 200,
        "Format": image_format,
    }
    return _call(svc, "/getImages", body)


def _status_kb(field: str) -> int:
    """A ``/proc/self/status`` memory figure (VmRSS, VmHWM) in KB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak() -> None:
    """Start VmHWM again from the current RSS (Linux 4.0+); getrusage's maxrss would keep the parent's from fork."""
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")


def page_child(data_dir: str, stream: str, image_format: str) -> None:
    """In a fresh process: warm up on the 'warm' stream, then one 5-sample page; prints one JSON line."""
    svc = _services(data_dir)
    _page(svc, "warm", image_format, T0)
    _reset_peak()
    before = _status_kb("VmRSS")
    started = time.perf_counter()
    answer = _page(svc, stream, image_format, T0 + 0.8)
    seconds = time.perf_counter() - started
    peak = _status_kb("VmHWM")
    images = answer["body"].get("Images", []) if isinstance(answer["body"], dict) else []
    print(json.dumps({"before_kb": before, "peak_kb": peak, "seconds": seconds, "stills": _sizes(images)}))


def _sizes(images: list[dict[str, Any]]) -> list[str]:
    import base64
    import io

    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None  # reading the size of a checkout's unbounded stills is the point here
    sizes = []
    for image in images:
        if "ImageContent" in image:
            width, height = Image.open(io.BytesIO(base64.b64decode(image["ImageContent"]))).size
            sizes.append(f"{width}x{height}")
        else:
            sizes.append(image["Error"])
    return sizes


def memory_rows(work: Path) -> None:
    """Ingest each memory case, then measure one page per format in a child process."""
    data_dir = str(work / "memory")
    svc = _services(data_dir)
    _ingest(svc, "warm", plain_clip(width=1920, height=1080, frames=5))
    streams = {}
    for n, (name, spec) in enumerate(MEMORY_CASES.items()):
        acks = _ingest(svc, f"case{n}", plain_clip(frames=25, **spec))
        streams[name] = f"case{n}"
        if any(ack.get("EventType") != "PERSISTED" for ack in acks):
            print(f"{name}: ingest answered {acks}")
    normal: dict[str, float] = {}
    print(f"{'case':34} {'fmt':4} {'peak MB':>8} {'added MB':>9} {'x normal':>8} {'s':>6}  stills")
    for name, stream in streams.items():
        for image_format in ("PNG", "JPEG"):
            command = [sys.executable, "-m", "bench.hostile", "--page", data_dir, stream, image_format]
            result = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
            lines = [line for line in result.stdout.splitlines() if line.startswith("{") and "peak_kb" in line]
            if not lines:
                print(f"{name:34} {image_format:4} failed: {result.stderr.strip().splitlines()[-1:]}")
                continue
            row = json.loads(lines[-1])
            added = (row["peak_kb"] - row["before_kb"]) / 1024
            normal.setdefault(image_format, max(added, 1.0))
            print(
                f"{name:34} {image_format:4} {row['peak_kb'] / 1024:8.0f} {added:9.0f} "
                f"{added / normal[image_format]:8.1f} {row['seconds']:6.2f}  {', '.join(sorted(set(row['stills'])))}"
            )


def _hostile_clip(work: Path) -> bytes:
    """19.9 s of 1080p at 1000 fps, one key frame (cached: it takes a while to encode)."""
    cached = work / "hostile-1000fps.mkv"
    if not cached.exists():
        cached.write_bytes(plain_clip(width=1920, height=1080, frames=HOSTILE_FRAMES, fps=HOSTILE_FPS))
    return cached.read_bytes()


def _seed_bypassing_cap(data_dir: str, media: bytes) -> list[Any]:
    """Store the clip as a checkout without the GOP cap would have (the cap is lifted for this call only)."""
    from stillframe.ingest import service

    svc = _services(data_dir)
    cap = getattr(service, "MAX_GOP_FRAMES", None)
    if cap is not None:
        service.MAX_GOP_FRAMES = 10**9  # type: ignore[attr-defined]
    try:
        return _ingest(svc, "hostile", media)
    finally:
        if cap is not None:
            service.MAX_GOP_FRAMES = cap  # type: ignore[attr-defined]


def _serve(data_dir: str, extra: list[str]) -> tuple[subprocess.Popen[str], str, int]:
    env = {**os.environ, "STILLFRAME_TIME_BUDGET_MS": str(TIME_BUDGET_MS), "STILLFRAME_TOKEN_SECRET": "bench-secret"}
    command = [sys.executable, "-m", "stillframe.cli.main", "serve", "--port", "0", "--data-dir", data_dir, *extra]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    assert process.stdout is not None
    for line in process.stdout:
        if "listening on " in line:
            address = line.split("listening on ", 1)[1].split()[0].split("://")[-1].rstrip("/")
            host, port = address.rsplit(":", 1)
            return process, host, int(port)
    raise SystemExit("serve did not start")


def _get(host: str, port: int, stream: str, at: float, **extra: Any) -> tuple[float, dict[str, Any]]:
    body = {
        "StreamName": stream,
        "ImageSelectorType": "PRODUCER_TIMESTAMP",
        "StartTimestamp": at,
        "EndTimestamp": at,
        "Format": "JPEG",
        **extra,
    }
    conn = http.client.HTTPConnection(host, port, timeout=120)
    started = time.perf_counter()
    conn.request("POST", "/getImages", body=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    answer = json.loads(conn.getresponse().read() or b"{}")
    conn.close()
    return time.perf_counter() - started, answer


def _summary(answer: dict[str, Any]) -> str:
    images = answer.get("Images", [])
    kinds = ["image" if "ImageContent" in i else i.get("Error", "?") for i in images]
    return f"{kinds}{' +NextToken' if 'NextToken' in answer else ''}" if images else str(answer)[:120]


def decode_rows(work: Path) -> None:
    """Two hostile GetImages at once and one small normal one, through serve with a 3.5 s budget."""
    media = _hostile_clip(work)
    data_dir = str(work / "decode")
    print(f"hostile clip: {len(media) / 1024:.0f} KB, {HOSTILE_FRAMES} frames of 1920x1080 at {HOSTILE_FPS} fps")
    acks = _ingest(_services(data_dir), "probe", media)
    print(f"PutMedia of it: {[(ack.get('EventType'), ack.get('ErrorId')) for ack in acks]}")
    _seed_bypassing_cap(data_dir, media)
    _ingest(_services(data_dir), "normal", plain_clip(width=1920, height=1080, frames=50))
    for extra in ADMISSIONS:
        print(f"serve {' '.join(extra) or '(default admission)'}, GetImages budget 3.5 s:")
        _contention(data_dir, extra)


def _contention(data_dir: str, extra: list[str]) -> None:
    """A small request's latency alone and behind two hostile ones, on one serve."""
    process, host, port = _serve(data_dir, extra)
    try:
        small = {"HeightPixels": 360}
        _get(host, port, "normal", T0 + 1, **small)  # warm-up
        alone = sorted(_get(host, port, "normal", T0 + 1, **small)[0] for _ in range(3))[1]
        hostile: list[tuple[float, dict[str, Any]]] = []
        threads = [
            threading.Thread(target=lambda: hostile.append(_get(host, port, "hostile", T0 + 19.85))) for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        behind = []  # one small request after another for as long as the hostile ones run (demuxing, then decoding)
        while any(thread.is_alive() for thread in threads):
            behind.append(_get(host, port, "normal", T0 + 1, **small)[0] * 1000)
        for thread in threads:
            thread.join()
        print(
            f"  small normal GetImages alone: {alone * 1000:.0f} ms; while two hostile run: {len(behind)} requests, "
            f"median {sorted(behind)[len(behind) // 2]:.0f} ms, max {max(behind):.0f} ms"
        )
        for seconds, answer in hostile:
            print(f"  hostile GetImages (sample 19.85 s into the GOP): {seconds:.2f} s, {_summary(answer)}")
    finally:
        process.terminate()
        process.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    """Print the memory rows, then the decode-time rows."""
    parser = argparse.ArgumentParser(prog="python -m bench.hostile", description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("memory", "decode", "all"), default="all")
    parser.add_argument("--work", help="directory for clips and stores (default: a temporary one)")
    parser.add_argument("--page", nargs=3, metavar=("DATA_DIR", "STREAM", "FORMAT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.page:
        page_child(*args.page)
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as scratch:
        work = Path(args.work or scratch)
        work.mkdir(parents=True, exist_ok=True)
        if args.part in ("memory", "all"):
            memory_rows(work)
        if args.part in ("decode", "all"):
            decode_rows(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
