"""``python -m bench.ingest`` (``make bench-ingest``): how many live producer sessions one core of serve holds.

N emulated KVS producers (``bench.ingest_producers``: 720p H.264 at 3 Mbit/s, 25 fps, 2 s clusters, paced per
frame in real time) stream at once into a fresh `stillframe serve` pinned to core 0, first on the local store, then
(when ``AWS_ENDPOINT_URL`` points at an S3, as ``make bench-ingest`` arranges with its own LocalStack) with
``--bucket``. The producers run in this process on the other core. Per N: PERSISTED latency after each cluster's
last byte (p50/p99/max), serve's CPU (utime+stime over the run) and peak RSS per session, the producers' own CPU
and pacing, and whether every cluster sent became one stored fragment. N grows 1, 10, 25, 50, 100 and stops
growing once p99 passes 2 s. Writes ``bench/results/ingest.json`` and, after a full run, the table in
``docs/performance.md``. Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.ingest_producers import CLUSTER_S, SessionResult, paced, run_sessions
from bench.scale import ensure_buckets, update_docs
from bench.scale_build import StoreSpec
from bench.scale_measure import Server, running

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "ingest.json"
DOCS_MARKERS = ("<!-- ingest-table:begin -->", "<!-- ingest-table:end -->")
CLIP = ROOT / "bench" / "fixtures" / "ingest-720p-3M-24s.mkv"
CLIP_SHAPE = {"width": 1280, "height": 720, "seconds": 24, "bitrate": 3_000_000}
SESSION_COUNTS = (1, 10, 25, 50, 100)
QUICK_COUNTS = (1, 10, 25)
STOP_P99_S = 2.0
TARGET = {"sessions": 100, "p99_s": 0.25}
SERVER_CPUS, PRODUCER_CPUS = "0", {1}
BUCKET = "stillframe-bench-ingest"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 1, 10, 25 and 12 s sessions; docs left alone")
    parser.add_argument("--sessions", help="session counts, comma-separated (default 1,10,25,50,100)")
    parser.add_argument("--no-s3", action="store_true", help="local store only (also when AWS_ENDPOINT_URL is unset)")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite the table in docs/performance.md")
    args = parser.parse_args(argv)
    counts = tuple(int(n) for n in args.sessions.split(",")) if args.sessions else None
    counts = counts or (QUICK_COUNTS if args.quick else SESSION_COUNTS)
    clusters = 6 if args.quick else 12
    if len(os.sched_getaffinity(0)) > 1:
        os.sched_setaffinity(0, PRODUCER_CPUS)  # serve gets core 0 to itself (as far as the machine's load allows)
    started, load = time.monotonic(), os.getloadavg()[0]
    header, media = paced(_media(), clusters)
    stores: dict[str, list[dict[str, Any]]] = {}
    work = Path(tempfile.mkdtemp(prefix="stillframe-ingest-"))
    try:
        kinds = ["local"] + ([] if args.no_s3 or not os.environ.get("AWS_ENDPOINT_URL") else ["s3"])
        for kind in kinds:
            if kind == "s3":
                ensure_buckets((BUCKET,))
            stores[kind] = []
            for count in counts:
                spec = _spec(kind, work)
                row = measure(spec, count, header, media)
                stores[kind].append(row)
                _log(f"{kind} N={count}: p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms, cpu {row['serve_cpu_share']}")
                payload = _write(stores, started, load, quick=args.quick)
                if row["p99_ms"] > STOP_P99_S * 1000 or row["lost"]:
                    break
    finally:
        shutil.rmtree(work, ignore_errors=True)
    markdown = table(payload)
    print(markdown)
    if not (args.quick or args.no_docs or args.sessions):
        update_docs(markdown, DOCS_MARKERS)
    return 1 if any(row["lost"] for rows in stores.values() for row in rows) else 0


def _media() -> Any:
    from bench.content import encode_clip
    from tests.support.producer import sdk_stream

    if not CLIP.exists():
        _log("encoding the 720p clip (once, ~25 s)")
        CLIP.parent.mkdir(parents=True, exist_ok=True)
        encode_clip(CLIP, **CLIP_SHAPE)
    return sdk_stream(CLIP.read_bytes(), start_ms=int(time.time() * 1000))


def _spec(kind: str, work: Path) -> StoreSpec:
    if kind == "local":
        return StoreSpec("local", root=str(work / uuid.uuid4().hex[:8]))
    return StoreSpec("s3", bucket=BUCKET, prefix=f"{uuid.uuid4().hex[:8]}/")


def measure(spec: StoreSpec, count: int, header: bytes, media: list[Any]) -> dict[str, Any]:
    """N sessions against a fresh pinned server: the row of figures."""
    env = {"STILLFRAME_TOKEN_SECRET": "bench-ingest"}
    with running(spec, env, cpus=SERVER_CPUS) as server:
        control = server.client("kinesisvideo")
        streams = [f"cam-{index:03d}" for index in range(count)]
        for name in streams:
            control.create_stream(StreamName=name, DataRetentionInHours=24)
        control.create_stream(StreamName="warm-up", DataRetentionInHours=24)
        # One cluster first: the media stack's imports (~0.3 s, once per process) are not any session's latency.
        asyncio.run(run_sessions(server.url, ["warm-up"], header, media[:1]))
        baseline = server.memory_mb()["VmRSS"]
        cpu_before, producer_before, requests_before = _cpu_s(server), time.process_time(), server.requests()
        began = time.monotonic()
        results = asyncio.run(run_sessions(server.url, streams, header, media))
        wall = time.monotonic() - began
        cpu = _cpu_s(server) - cpu_before
        producer_cpu = time.process_time() - producer_before
        requests = server.requests() - requests_before
        peak = server.memory_mb()["VmHWM"]
        stored = _stored(server, streams)
    return _row(count, results, stored, wall=wall, cpu=cpu, producer_cpu=producer_cpu, rss=(baseline, peak)) | {
        "s3_requests_per_cluster": round(requests / (count * len(media)), 1) if spec.kind == "s3" else None
    }


def _row(
    count: int,
    results: list[SessionResult],
    stored: int,
    *,
    wall: float,
    cpu: float,
    producer_cpu: float,
    rss: tuple[float, float],
) -> dict[str, Any]:
    latencies = sorted(latency for result in results for latency in result.persisted_latencies())
    lateness = sorted(late for result in results for late in result.lateness_s)
    sent = sum(len(result.last_byte) for result in results)
    persisted = {(r.stream, tc) for r in results for event, tc, _, _ in r.acks if event == "PERSISTED"}
    errors = [detail for r in results for event, _, _, detail in r.acks if event == "ERROR"]
    baseline, peak = rss
    return {
        "sessions": count,
        "clusters_sent": sent,
        "persisted": len(persisted),
        "fragments_stored": stored,
        "error_acks": len(errors),
        "session_errors": [r.error for r in results if r.error][:5],
        "lost": sent - len(persisted) + abs(stored - sent),
        "p50_ms": _ms(_quantile(latencies, 0.50)),
        "p99_ms": _ms(_quantile(latencies, 0.99)),
        "max_ms": _ms(latencies[-1] if latencies else math.nan),
        "wall_s": round(wall, 1),
        "serve_cpu_share": round(cpu / wall, 3),
        "serve_cpu_pct_per_session": round(100 * cpu / wall / count, 2),
        "serve_cpu_ms_per_cluster": round(1000 * cpu / max(1, sent), 1),
        "serve_rss_mb": {"before": baseline, "peak": peak},
        "serve_rss_mb_per_session": round((peak - baseline) / count, 2),
        "producer_cpu_share": round(producer_cpu / wall, 3),
        "producer_lateness_p99_ms": _ms(_quantile(lateness, 0.99)),
    }


def _quantile(values: list[float], q: float) -> float:
    """Nearest-rank quantile of sorted ``values``."""
    return values[max(0, math.ceil(q * len(values)) - 1)] if values else math.nan


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _cpu_s(server: Server) -> float:
    """The server's utime + stime so far, seconds."""
    fields = Path(f"/proc/{server.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _stored(server: Server, streams: list[str]) -> int:
    """Fragments stored over every stream (ListFragments, all pages)."""
    media = server.client("kinesis-video-archived-media")
    pages = media.get_paginator("list_fragments")
    return sum(len(page["Fragments"]) for name in streams for page in pages.paginate(StreamName=name))


def judge(stores: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The issue's target: 100 sessions on one core, p99 <= 250 ms on the local store, nothing lost."""
    row = next((r for r in stores.get("local", []) if r["sessions"] == TARGET["sessions"]), None)
    value = None if row is None else row["p99_ms"]
    met = row is not None and not row["lost"] and row["p99_ms"] <= TARGET["p99_s"] * 1000
    return {"local: 100 sessions, PERSISTED p99 ms": {"value": value, "target": "<= 250", "met": met}}


def _write(stores: dict[str, list[dict[str, Any]]], started: float, load: float, *, quick: bool) -> dict[str, Any]:
    payload = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "duration_s": round(time.monotonic() - started, 1),
        "machine": {
            "cpus": os.cpu_count(),
            "server_cpus": SERVER_CPUS,
            "python": platform.python_version(),
            "os": platform.platform(),
            "load_average_at_start": round(load, 2),
            "load_average_at_end": round(os.getloadavg()[0], 2),
        },
        "method": f"720p H.264 3 Mbit/s 25 fps, {CLUSTER_S:.0f} s clusters, one HTTP chunk per frame every 40 ms; "
        "session starts spread over one cluster period; latency = PERSISTED ack arrival - the cluster's last byte "
        "(its END_OF_FRAGMENT tags) written; serve on core 0 (taskset), producers (asyncio) on core 1",
        "targets": judge(stores),
        "stores": stores,
    }
    RESULTS.write_text(json.dumps(payload, indent=1) + "\n")
    return payload


def table(payload: dict[str, Any]) -> str:
    """The figures as Markdown, one row per store and N, then the target."""
    machine = payload["machine"]
    lines = [
        f"Run {payload['when']} ({payload['duration_s']:.0f} s), serve on core {machine['server_cpus']} of "
        f"{machine['cpus']} (shared machine, load average {machine['load_average_at_start']} at start, "
        f"{machine['load_average_at_end']} at end).",
        "",
        "| store | N | clusters sent / PERSISTED / stored | PERSISTED p50 / p99 / max ms | serve CPU (of a core) "
        "| CPU per session | CPU ms per cluster | RSS before / peak MB | RSS per session MB | producers CPU "
        "| pacing p99 late ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for kind, rows in payload["stores"].items():
        for r in rows:
            lines.append(
                f"| {kind} | {r['sessions']} | {r['clusters_sent']} / {r['persisted']} / {r['fragments_stored']} "
                f"| {r['p50_ms']} / {r['p99_ms']} / {r['max_ms']} | {r['serve_cpu_share'] * 100:.0f}% "
                f"| {r['serve_cpu_pct_per_session']}% | {r['serve_cpu_ms_per_cluster']} "
                f"| {r['serve_rss_mb']['before']:.0f} / {r['serve_rss_mb']['peak']:.0f} "
                f"| {r['serve_rss_mb_per_session']} | {r['producer_cpu_share'] * 100:.0f}% "
                f"| {r['producer_lateness_p99_ms']} |"
            )
    lines += ["", "Target:", ""]
    for name, verdict in payload["targets"].items():
        lines.append(f"- {'met' if verdict['met'] else 'NOT MET'}: {name} {verdict['target']} — {verdict['value']}")
    return "\n".join(lines)


def _log(text: str) -> None:
    print(f"bench-ingest: {text}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
