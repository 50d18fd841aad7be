"""The measuring side of ``bench.media_out``: run pinned to one core (``taskset -c 0``) by ``bench.media_out``.

``python -m bench.media_out_measure REPS`` prints one JSON line: GetClip of the 1080p fixture's 60 s against the
ffmpeg CLI's concat demuxer over the same stored fragment files (``-c copy``), GetMedia EARLIEST's read throughput,
and one GetImages page over the same video ingested with and without an AAC track.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.fixtures import FIXTURES, STORE, T0_MS, load_fixtures, stream_name
from bench.stillframe_runs import ENV

CLIP_MS = 60_000
PAGE = {"first_ms": 10_000, "images": 25, "interval_ms": 1_000}  # the GetImages page: 25 images, 1 s apart
AAC_RECIPE = "v1: src-1080p.mkv video copied, 440 Hz sine, AAC-LC 48 kHz stereo 128 kb/s"


def main(reps: int) -> dict[str, Any]:
    """Every figure of the run (one core: the caller pins this process and so its ffmpeg children)."""
    os.environ.update(ENV)
    fixture = load_fixtures()[stream_name("1080p", 2)]
    with tempfile.TemporaryDirectory(prefix="stillframe-media-out-") as work:
        clip = measure_clip(fixture.name, fixture.fragment_paths, fixture.fragment_durations_ms, Path(work), reps)
        media = measure_get_media(fixture.name, reps)
        images = measure_images(Path(work), reps)
    return {"cpus": sorted(os.sched_getaffinity(0)), "get_clip": clip, "get_media": media, "get_images": images}


def services(root: Path = STORE) -> Any:
    """Fresh services over a local directory store (no caches carried between repetitions)."""
    from stillframe.settings import Settings
    from stillframe.storage.local import LocalDirectoryStore
    from stillframe.wiring import build

    return build(Settings.from_env(), store=LocalDirectoryStore(root))


def best_of(reps: int, run: Callable[[], Any]) -> tuple[list[float], Any]:
    """Wall times of ``reps`` runs and the first run's result."""
    walls, first = [], None
    for rep in range(reps):
        started = time.perf_counter()
        out = run()
        walls.append(time.perf_counter() - started)
        first = out if rep == 0 else first
    return walls, first


def measure_clip(name: str, paths: list[str], durations: list[int], work: Path, reps: int) -> dict[str, Any]:
    """GetClip of [T0, T0 + 60 s) in-process vs ``ffmpeg -f concat -c copy`` over the same fragment files."""
    from stillframe.domain.media_requests import GetClipRequest

    request = GetClipRequest.model_validate(
        {
            "StreamName": name,
            "ClipFragmentSelector": {
                "FragmentSelectorType": "PRODUCER_TIMESTAMP",
                # GetClip keeps frames starting at or before End: 1 ms short of 60 s is exactly 1500 frames
                "TimestampRange": {"StartTimestamp": T0_MS / 1000, "EndTimestamp": (T0_MS + CLIP_MS - 1) / 1000},
            },
        }
    )
    services().operations.get_clip(request)  # warm: PyAV imported, fragment files in the page cache
    walls, clip = best_of(reps, lambda: services().operations.get_clip(request))
    listing = work / "list.txt"
    # With absolute timestamps the concat demuxer needs each file's duration, or it invents a long timeline.
    listing.write_text("".join(f"file '{p}'\nduration {d / 1000:.3f}\n" for p, d in zip(paths, durations, strict=True)))
    out = work / "ffmpeg.mp4"
    command = ["ffmpeg", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(out)]
    subprocess.run(command, check=True)  # warm
    ffmpeg_walls, _ = best_of(reps, lambda: subprocess.run(command, check=True))
    # Reference, not the peer: ffmpeg remuxing the unsplit 60 s source, one file opened instead of 30.
    whole = ["ffmpeg", "-v", "error", "-y", "-i", str(FIXTURES / "src-1080p.mkv"), "-c", "copy", str(work / "w.mp4")]
    source_walls, _ = best_of(reps, lambda: subprocess.run(whole, check=True))
    (work / "stillframe.mp4").write_bytes(clip)
    return {
        "fragments": len(paths),
        "stillframe_s": walls,
        "ffmpeg_s": ffmpeg_walls,
        "stillframe_bytes": len(clip),
        "ffmpeg_bytes": out.stat().st_size,
        "stillframe_frames": video_frames(work / "stillframe.mp4"),
        "ffmpeg_frames": video_frames(out),
        "ffmpeg_source_s": source_walls,
        "ratio": min(walls) / min(ffmpeg_walls),
        "ratio_vs_source": min(walls) / min(source_walls),
    }


def video_frames(path: Path) -> int:
    """Video packets in a file (each frame once: the check that both sides made the same clip)."""
    import av

    with av.open(str(path)) as container:
        return sum(1 for p in container.demux(container.streams.video[0]) if p.size)


def measure_get_media(name: str, reps: int) -> dict[str, Any]:
    """GetMedia EARLIEST to the end of the stream: the streaming generator (what serve writes out), not following."""
    from stillframe.catalog.arrivals import ARRIVALS
    from stillframe.domain.media_requests import GetMediaRequest
    from stillframe.operations.get_media import Follow, get_media

    request = GetMediaRequest.model_validate({"StreamName": name, "StartSelector": {"StartSelectorType": "EARLIEST"}})

    def read() -> int:
        svc = services()
        chunks = get_media(
            request,
            streams=svc.streams,
            fragments=svc.fragments,
            tokens=svc.tokens,
            arrivals=ARRIVALS,
            now_ms=lambda: int(time.time() * 1000),
            follow=Follow(follow=False),
        )
        return sum(len(chunk) for chunk in chunks)

    read()
    walls, size = best_of(reps, read)
    return {"bytes": size, "wall_s": walls, "mb_per_s": size / min(walls) / 1e6}


def measure_images(work: Path, reps: int) -> dict[str, Any]:
    """The same GetImages page over the 1080p video ingested without and with an AAC track (alternating reps)."""
    from stillframe.domain.requests import parse_get_images

    source = FIXTURES / "src-1080p.mkv"
    store = work / "store"
    ingest(store, "video-only", source)
    ingest(store, "video-aac", with_aac(source))
    svc_walls: dict[str, list[float]] = {"video-only": [], "video-aac": []}
    images: dict[str, list[bytes]] = {}

    def page(name: str) -> list[bytes]:
        body = {
            "StreamName": name,
            "ImageSelectorType": "PRODUCER_TIMESTAMP",
            "StartTimestamp": (T0_MS + PAGE["first_ms"]) / 1000,
            "EndTimestamp": (T0_MS + PAGE["first_ms"] + (PAGE["images"] - 1) * PAGE["interval_ms"]) / 1000,
            "SamplingInterval": PAGE["interval_ms"],
            "Format": "JPEG",
            "FormatConfig": {"JPEGQuality": "80"},
            "MaxResults": PAGE["images"],
        }
        answer = services(store).operations.get_images(parse_get_images(body))
        return [i["ImageContent"] for i in answer["Images"] if "ImageContent" in i]

    for name in svc_walls:
        page(name)  # warm: imports, scaler, the page cache
    for _ in range(reps):
        for name in svc_walls:
            started = time.perf_counter()
            images[name] = page(name)
            svc_walls[name].append(time.perf_counter() - started)
    plain, aac = svc_walls["video-only"], svc_walls["video-aac"]
    return {
        "images": {name: len(out) for name, out in images.items()},
        "same_images": images["video-only"] == images["video-aac"],
        "audio_stored": stored_audio(store, "video-aac"),
        "video_only_s": plain,
        "video_aac_s": aac,
        "ratio": min(aac) / min(plain),
    }


def with_aac(source: Path) -> Path:
    """``source``'s video with a tone as AAC (made once, beside the fixtures)."""
    out, stamp = FIXTURES / "src-1080p-aac.mkv", FIXTURES / "src-1080p-aac.recipe"
    if not (out.exists() and stamp.exists() and stamp.read_text() == AAC_RECIPE):
        command = ["ffmpeg", "-v", "error", "-y", "-i", str(source), "-f", "lavfi", "-i", "sine=frequency=440"]
        command += ["-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", "-ar", "48000", "-ac", "2"]
        subprocess.run([*command, "-b:a", "128k", "-shortest", str(out)], check=True)
        stamp.write_text(AAC_RECIPE)
    return out


def ingest(root: Path, name: str, clip: Path) -> None:
    """Cut ``clip`` into 2 s fragments and store them through the ingest service (as ``bench.fixtures`` does)."""
    from stillframe.catalog.fragments import FragmentIndex
    from stillframe.catalog.streams import StreamCatalog
    from stillframe.ingest.service import UploadClock, store_fragments
    from stillframe.media.split import iter_fragments
    from stillframe.storage.local import LocalDirectoryStore

    store = LocalDirectoryStore(root)
    stream = StreamCatalog(store, region="us-east-1", account_id="000000000000").create(name, retention_hours=87_600)
    clock = UploadClock(received_ms=int(time.time() * 1000), producer_start_ms=T0_MS)
    store_fragments(stream, list(iter_fragments(clip, target_ms=2_000)), clock, FragmentIndex(store))


def stored_audio(root: Path, name: str) -> bool:
    """Whether the stream's first stored fragment carries an audio track."""
    import av

    files = sorted(p for p in root.rglob("*.mkv") if f"/{name}/" in str(p))
    with av.open(str(files[0])) as container:
        return bool(container.streams.audio)


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))), flush=True)
