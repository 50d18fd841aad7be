"""``python -m bench.playback`` (part of ``make bench``): HLS/DASH playback from a real `stillframe serve`.

- Time to first frame in Chromium: a page of another origin asks serve for an ON_DEMAND HLS session of the 1080p
  2 s fixture (``b1080p-2s``, first 10 s) and plays it in hls.js; from the session call to the first presented frame
  (``requestVideoFrameCallback``). Median of 5 fresh pages; target <= 1.5 s.
- One 1080p fMP4 media segment's answer over HTTP, warm (the same segment URL on one keep-alive connection, 50
  GETs after 3): p50 and p90, target p50 <= 20 ms; the peer is the ffmpeg CLI remuxing the same stored fragment file
  to fragmented MP4 (``-c copy``), its process start included, median of 5, ratio in the same run.
- LIVE latency in Chromium: a camera streaming 640x360 in 1 s fragments (``tests.support.players.live_source``),
  played with hls.js and dash.js at their default settings; the wall-clock time a frame is shown minus the time it
  was filmed, median of 5 frames 1 s apart. Target: one fragment + 1 s.

Figures only, no timed asserts. Writes ``bench/results/playback.json`` and the table in ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from bench.fixtures import STORE, T0_MS, ensure_fixtures, stream_name
from bench.scale import update_docs
from tests.support.playback import media_uri, playlist_uris
from tests.support.players import chromium, grab, live_source, page_server, start_player, wait_playing
from tests.support.serve import running_serve

RESULTS = Path(__file__).resolve().parent / "results" / "playback.json"
DOCS_MARKERS = ("<!-- playback-table:begin -->", "<!-- playback-table:end -->")
TARGETS = {"first_frame_ms": 1500, "segment_p50_ms": 20, "live_behind_ms": 2000}


def on_demand_body(stream: str) -> dict[str, Any]:
    selector = {
        "FragmentSelectorType": "PRODUCER_TIMESTAMP",
        "TimestampRange": {"StartTimestamp": T0_MS / 1000, "EndTimestamp": T0_MS / 1000 + 10},
    }
    return {"StreamName": stream, "PlaybackMode": "ON_DEMAND", "HLSFragmentSelector": selector}


def first_frame_ms(browser: Any, origin: str, url: str, stream: str, runs: int) -> list[float]:
    """Session call -> first presented frame, in ms, for ``runs`` fresh pages."""
    times = []
    for _ in range(runs):
        context = browser.new_context()
        page = context.new_page()
        start_player(page, origin, url, "hls", on_demand_body(stream))
        marks = wait_playing(page)["marks"]
        times.append(marks["frame"] - marks["start"])
        context.close()
    return times


def segment_answers_ms(url: str, stream: str, gets: int) -> list[float]:
    """ms per GET of the session's second video media segment (the stream's second fragment), on one keep-alive
    connection."""
    connection = http.client.HTTPConnection(urlsplit(url).netloc, timeout=30)

    def get(target: str) -> bytes:
        connection.request("GET", target)
        answer = connection.getresponse()
        body = answer.read()
        assert answer.status == 200, (answer.status, body[:200])
        return body

    call = json.dumps(on_demand_body(stream))
    connection.request("POST", "/getHLSStreamingSessionURL", call, {"Content-Type": "application/json"})
    master_url = json.loads(connection.getresponse().read())["HLSStreamingSessionURL"]
    playlist_url = urljoin(master_url, media_uri(get(_target(master_url)).decode()))
    segment_url = urljoin(playlist_url, playlist_uris(get(_target(playlist_url)).decode())[1])
    for _ in range(3):
        get(_target(segment_url))
    walls = []
    for _ in range(gets):
        started = time.perf_counter()
        get(_target(segment_url))
        walls.append((time.perf_counter() - started) * 1000)
    connection.close()
    return walls


def _target(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def ffmpeg_remux_ms(fragment: Path, runs: int = 5) -> list[float]:
    """The ffmpeg CLI remuxing one stored fragment file to fragmented MP4 (``-c copy``), ms per run."""
    walls = []
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "segment.mp4"
        command = ["ffmpeg", "-v", "error", "-y", "-i", str(fragment), "-c", "copy", "-an", "-f", "mp4"]
        command += ["-movflags", "frag_keyframe+empty_moov+default_base_moof", str(out)]
        for _ in range(runs + 1):
            started = time.perf_counter()
            subprocess.run(command, check=True)
            walls.append((time.perf_counter() - started) * 1000)
    return walls[1:]


def live_behind_ms(browser: Any, origin: str, kind: str) -> list[float]:
    """How long after filming each of 5 presented frames was shown, in ms, a camera streaming while playing."""
    with (
        tempfile.TemporaryDirectory() as work,
        running_serve("--data-dir", work) as (url, _),
        live_source(url, "live", seconds=20) as start_ms,
    ):
        time.sleep(3)
        context = browser.new_context()
        page = context.new_page()
        start_player(page, origin, url, kind, {"StreamName": "live", "PlaybackMode": "LIVE"})
        wait_playing(page)
        time.sleep(3)  # past the player's start-up
        behind = []
        for _ in range(5):
            shot = grab(page, presented=True)
            assert shot.shown_at_ms is not None
            behind.append(round(shot.shown_at_ms - (start_ms + shot.frame * 40)))
            time.sleep(1)
        context.close()
    return behind


def measure(quick: bool) -> dict[str, Any]:
    fixture = ensure_fixtures(log=False)[stream_name("1080p", 2)]
    result: dict[str, Any] = {"stream": fixture.name}
    with running_serve("--data-dir", str(STORE)) as (url, _), page_server() as origin, chromium() as browser:
        firsts = first_frame_ms(browser, origin, url, fixture.name, 2 if quick else 5)
        result["first_frame_ms"] = {"median": round(statistics.median(firsts)), "all": [round(t) for t in firsts]}
        walls = segment_answers_ms(url, fixture.name, 20 if quick else 50)
        quantiles = statistics.quantiles(walls, n=10)
        result["segment_ms"] = {"p50": round(statistics.median(walls), 2), "p90": round(quantiles[8], 2)}
        remux = ffmpeg_remux_ms(Path(fixture.fragment_paths[1]), 2 if quick else 5)
        result["ffmpeg_remux_ms"] = round(statistics.median(remux), 2)
        result["segment_ratio"] = round(result["segment_ms"]["p50"] / result["ffmpeg_remux_ms"], 3)
        for kind in ("hls", "dash"):
            behind = live_behind_ms(browser, origin, kind)
            result[f"live_{kind}_behind_ms"] = {"median": round(statistics.median(behind)), "all": behind}
    return result


def table(result: dict[str, Any], started: str, seconds: float) -> str:
    first, segment = result["first_frame_ms"], result["segment_ms"]
    lines = [
        f"Run {started} ({seconds:.0f} s) on {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f} at end.",
        "",
        "| measurement | Stillframe | peer | ratio | target |",
        "|---|---|---|---|---|",
        f"| time to first frame, hls.js, ON_DEMAND 1080p | {first['median']} ms (runs {first['all']}) | | "
        "| <= 1500 ms |",
        f"| 1080p 2 s fMP4 media segment over HTTP, warm | p50 {segment['p50']} ms, p90 {segment['p90']} ms "
        f"| ffmpeg -c copy of the fragment {result['ffmpeg_remux_ms']} ms | {result['segment_ratio']}x "
        "| p50 <= 20 ms |",
    ]
    for kind in ("hls", "dash"):
        behind = result[f"live_{kind}_behind_ms"]
        lines.append(
            f"| LIVE, {kind} default settings: shown after filmed | {behind['median']} ms | | | <= 2000 ms "
            "(1 s fragment + 1 s) |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.playback", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite the table in docs/performance.md")
    args = parser.parse_args(argv)
    started, clock = datetime.now(UTC).isoformat(timespec="seconds"), time.monotonic()
    result = measure(args.quick)
    markdown = table(result, started, time.monotonic() - clock)
    print(json.dumps(result))
    print(markdown)
    RESULTS.write_text(json.dumps({"run": started, **result}, indent=2) + "\n")
    if not args.no_docs:
        update_docs(markdown, DOCS_MARKERS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
