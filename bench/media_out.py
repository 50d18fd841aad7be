"""``python -m bench.media_out`` (part of ``make bench``): the media-out operations on one core, ratios in one run.

- GetClip of 60 s of 1080p (the ``b1080p-2s`` fixture, 30 fragments) in-process from the local store vs the ffmpeg
  CLI concatenating the same stored fragment files into MP4 (``-f concat ... -c copy``): target <= 1.0x.
- GetMedia EARLIEST over the same stream in-process (the streaming generator, to the end of the stream): target
  >= 100 MB/s.
- One GetImages page (25 JPEG q80 images at full size, 1 s apart) over the same video ingested without and with an
  AAC track: target <= 1.02x.

The measuring runs in a child process pinned with ``taskset -c 0`` (``bench.media_out_measure``); its ffmpeg runs
inherit that core. Times are the best of 5 repetitions (2 with ``--quick``). Writes ``bench/results/media_out.json``
and the table in ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import report
from bench.scale import update_docs

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results" / "media_out.json"
DOCS_MARKERS = ("<!-- media-out-table:begin -->", "<!-- media-out-table:end -->")
TARGETS = {"get_clip_ratio": 1.0, "get_media_mb_per_s": 100.0, "get_images_audio_ratio": 1.02}


def main(argv: list[str] | None = None) -> int:
    """Measure, print the table and the verdicts; exit status 1 when a clip or a page came out wrong."""
    parser = argparse.ArgumentParser(prog="python -m bench.media_out", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 repetitions instead of 5")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite the table in docs/performance.md")
    args = parser.parse_args(argv)
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "bench.fixtures"], cwd=ROOT, stdout=sys.stderr, check=True)
    machine = report.machine()
    reps = 2 if args.quick else 5
    command = ["taskset", "-c", "0", sys.executable, "-m", "bench.media_out_measure", str(reps)]
    done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, check=True)
    figures = json.loads(done.stdout.decode().strip().splitlines()[-1])
    machine["load_average_at_end"] = os.getloadavg()
    payload = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "reps": reps,
        "duration_s": round(time.monotonic() - started, 1),
        "machine": machine,
        "targets": judge(figures),
        "figures": figures,
    }
    report.write_results(RESULTS, payload)
    markdown = table(payload)
    print(markdown)
    if not args.no_docs:
        update_docs(markdown, DOCS_MARKERS)
    return 0 if correct(figures) else 1


def judge(figures: dict[str, Any]) -> dict[str, Any]:
    """Each target: {"value", "target", "met"}."""
    clip, media, images = figures["get_clip"], figures["get_media"], figures["get_images"]
    return {
        "GetClip 60 s 1080p / ffmpeg concat -c copy": _verdict(clip["ratio"], TARGETS["get_clip_ratio"], "<="),
        "GetMedia EARLIEST MB/s": _verdict(media["mb_per_s"], TARGETS["get_media_mb_per_s"], ">="),
        "GetImages page with AAC / without": _verdict(images["ratio"], TARGETS["get_images_audio_ratio"], "<="),
    }


def correct(figures: dict[str, Any]) -> bool:
    """Both clips hold every frame of the range, and the audio changed no image."""
    clip, images = figures["get_clip"], figures["get_images"]
    return clip["stillframe_frames"] == clip["ffmpeg_frames"] == 1500 and images["same_images"]


def _verdict(value: float, bound: float, way: str) -> dict[str, Any]:
    met = value <= bound if way == "<=" else value >= bound
    return {"value": round(value, 3), "target": f"{way} {bound}", "met": met}


def table(payload: dict[str, Any]) -> str:
    """The figures as Markdown: one row per measurement, then the targets."""
    figures, machine = payload["figures"], payload["machine"]
    clip, media, images = figures["get_clip"], figures["get_media"], figures["get_images"]
    load = machine["load_average_at_start"][0], machine["load_average_at_end"][0]
    lines = [
        f"Run {payload['when']} ({'quick, ' if payload['quick'] else ''}best of {payload['reps']}, "
        f"{payload['duration_s']:.0f} s) on CPU {figures['cpus']} of {machine['cpus']} ({machine['cpu']}); "
        f"{machine['ffmpeg_cli']}; load average {load[0]:.2f} at start, {load[1]:.2f} at end.",
        "",
        "| measurement | Stillframe | peer / baseline | ratio | target |",
        "|---|---|---|---|---|",
        f"| GetClip 60 s 1080p ({clip['fragments']} fragments, {clip['stillframe_bytes'] / 1e6:.1f} MB, "
        f"{clip['stillframe_frames']} frames) | {_ms(clip['stillframe_s'])} | ffmpeg concat -c copy "
        f"{_ms(clip['ffmpeg_s'])} ({clip['ffmpeg_frames']} frames) | {clip['ratio']:.2f}x | <= 1.0x |",
        f"| (reference) the same vs ffmpeg -c copy of the unsplit 60 s source file | {_ms(clip['stillframe_s'])} "
        f"| {_ms(clip['ffmpeg_source_s'])} | {clip['ratio_vs_source']:.2f}x | none |",
        f"| GetMedia EARLIEST ({media['bytes'] / 1e6:.1f} MB) | {_ms(media['wall_s'])}, "
        f"{media['mb_per_s']:.0f} MB/s | | | >= 100 MB/s |",
        f"| GetImages 25 x 1080p JPEG q80, 1 s apart | with AAC {_ms(images['video_aac_s'])} "
        f"(audio stored: {images['audio_stored']}) | video only {_ms(images['video_only_s'])} "
        f"(same images: {images['same_images']}) | {images['ratio']:.3f}x | <= 1.02x |",
        "",
        "Targets:",
        "",
    ]
    for name, verdict in payload["targets"].items():
        lines.append(f"- {'met' if verdict['met'] else 'NOT MET'}: {name} {verdict['target']} — {verdict['value']}")
    return "\n".join(lines)


def _ms(walls: list[float]) -> str:
    return f"{min(walls) * 1000:.0f} ms"


if __name__ == "__main__":
    sys.exit(main())
