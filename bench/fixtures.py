"""Benchmark fixtures: source clips, cut into stored fragments, and a manifest describing them.

Everything lives under ``bench/fixtures/`` (gitignored) and is rebuilt only when missing or when the recipe
changes. Fragments are cut by Stillframe's own splitter and stored through its own ingest path into a local
directory store, so the engine, ``stillframe serve``, ffmpeg and the naive loop all read the same files.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
STORE = FIXTURES / "store"
MANIFEST = FIXTURES / "manifest.json"
RECIPE = "v1: x264 veryfast, ABR, 25 fps, 2 s closed GOP, no B-frames, textured pan + grain"
B_RECIPE = "v1: x264 veryfast, ABR, 25 fps, 2 s closed GOP, 3 B-frames, B-pyramid, textured pan + grain"
MANIFEST_RECIPE = "v2: P-only sources, 1080p with B-frames"  # what the manifest holds: sources and streams
T0_MS = 1_767_225_600_000  # producer start of every stream: 2026-01-01T00:00:00Z
RETENTION_HOURS = 87_600  # ten years, so fixtures never age out of the retention window


@dataclass(frozen=True)
class Source:
    """One generated clip."""

    name: str
    width: int
    height: int
    seconds: int
    bitrate: int
    bframes: int = 0

    @property
    def recipe(self) -> str:
        """What the clip is: a changed recipe regenerates this clip only."""
        return B_RECIPE if self.bframes else RECIPE


@dataclass(frozen=True)
class StreamFixture:
    """One stored stream: a source cut into fragments of ``fragment_s`` seconds."""

    name: str
    source: str
    width: int
    height: int
    fragment_s: int
    frames: int
    fragment_paths: list[str]  # files, in time order
    fragment_starts_ms: list[int]  # producer start of each fragment
    fragment_durations_ms: list[int]


SOURCES = (
    Source("1080p", 1920, 1080, 60, 4_000_000),
    Source("720p", 1280, 720, 60, 4_000_000),
    Source("2160p", 3840, 2160, 10, 16_000_000),
    Source("1080pB", 1920, 1080, 30, 4_000_000, bframes=3),  # 30 s keeps its generation to about half a minute
)
STREAMS = (("1080p", 2), ("1080p", 6), ("720p", 2), ("720p", 6), ("2160p", 2), ("1080pB", 2))


def stream_name(source: str, fragment_s: int) -> str:
    """Stream name of a source cut into ``fragment_s``-second fragments (e.g. ``b1080p-2s``)."""
    return f"b{source}-{fragment_s}s"


def ensure_fixtures(log: bool = True) -> dict[str, StreamFixture]:
    """The stream fixtures, generating whatever is missing first.

    ``bench.run`` calls this in a child process (``python -m bench.fixtures``): generating grows a process to over
    1 GB (the 4K clip), and a worker it started afterwards would report that as its own ``ru_maxrss``.
    """
    streams = _current()
    if streams is not None:
        return streams
    if STORE.exists():
        shutil.rmtree(STORE)
    FIXTURES.mkdir(parents=True, exist_ok=True)
    streams = {}
    for source in SOURCES:
        clip = _ensure_source(source, log)
        for name, fragment_s in STREAMS:
            if name == source.name:
                fixture = _ingest(source, clip, fragment_s)
                streams[fixture.name] = fixture
    MANIFEST.write_text(
        json.dumps({"recipe": MANIFEST_RECIPE, "streams": {k: asdict(v) for k, v in streams.items()}}, indent=1)
    )
    return streams


def load_fixtures() -> dict[str, StreamFixture]:
    """The stream fixtures as they are; RuntimeError when missing or stale (a measuring worker never generates)."""
    streams = _current()
    if streams is None:
        raise RuntimeError("bench fixtures are missing or stale: run python -m bench.fixtures (bench.run does)")
    return streams


def _current() -> dict[str, StreamFixture] | None:
    """The manifest's fixtures when they match the recipe and the store, else None."""
    if not MANIFEST.exists():
        return None
    manifest = json.loads(MANIFEST.read_text())
    streams = {name: StreamFixture(**data) for name, data in manifest["streams"].items()}
    return streams if manifest.get("recipe") == MANIFEST_RECIPE and _store_matches(streams) else None


def _store_matches(streams: dict[str, StreamFixture]) -> bool:
    """Whether Stillframe's current code still finds every fixture fragment (the key layout may have changed)."""
    from stillframe.catalog.fragments import FragmentIndex
    from stillframe.catalog.streams import StreamCatalog
    from stillframe.storage.local import LocalDirectoryStore

    if not STORE.exists():
        return False
    store = LocalDirectoryStore(STORE)
    catalog, index = StreamCatalog(store, region="us-east-1", account_id="000000000000"), FragmentIndex(store)
    for fixture in streams.values():
        record = catalog.load(fixture.name)
        if record is None or not all(Path(path).exists() for path in fixture.fragment_paths):
            return False
        found = index.covering_candidates(record.media_id, "producer", T0_MS, T0_MS + 10**7)
        if len(found) != len(fixture.fragment_paths):
            return False
    return True


def _ensure_source(source: Source, log: bool) -> Path:
    from bench.content import encode_clip

    path = FIXTURES / f"src-{source.name}.mkv"
    stamp = path.with_suffix(".recipe")
    if path.exists() and stamp.exists() and stamp.read_text() == source.recipe:
        return path
    started = time.monotonic()
    if log:
        print(f"generating {path.name} ({source.seconds} s, {source.width}x{source.height})...", file=sys.stderr)
    encode_clip(
        path,
        width=source.width,
        height=source.height,
        seconds=source.seconds,
        bitrate=source.bitrate,
        bframes=source.bframes,
    )
    stamp.write_text(source.recipe)
    if log:
        print(f"  done in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return path


def _ingest(source: Source, clip: Path, fragment_s: int) -> StreamFixture:
    """Cut ``clip`` with the splitter and store it through the ingest service, as PutMedia would."""
    from stillframe.catalog.fragments import FragmentIndex
    from stillframe.catalog.streams import StreamCatalog
    from stillframe.ingest.service import UploadClock, store_fragments
    from stillframe.media.split import iter_fragments
    from stillframe.storage.local import LocalDirectoryStore, encode_segment

    store = LocalDirectoryStore(STORE)
    name = stream_name(source.name, fragment_s)
    stream = StreamCatalog(store, region="us-east-1", account_id="000000000000").create(
        name, retention_hours=RETENTION_HOURS
    )
    index = FragmentIndex(store)
    clock = UploadClock(received_ms=int(time.time() * 1000), producer_start_ms=T0_MS)
    pieces = list(iter_fragments(clip, target_ms=fragment_s * 1000))
    store_fragments(stream, pieces, clock, index)
    records = sorted(
        index.covering_candidates(stream.media_id, "producer", T0_MS, T0_MS + 10**7), key=lambda r: r.producer_ms
    )
    paths = [str(STORE.joinpath("objects", *map(encode_segment, r.blob_key.split("/")))) for r in records]
    return StreamFixture(
        name=name,
        source=source.name,
        width=source.width,
        height=source.height,
        fragment_s=fragment_s,
        frames=sum(p.frame_count for p in pieces),
        fragment_paths=paths,
        fragment_starts_ms=[r.producer_ms for r in records],
        fragment_durations_ms=[r.duration_ms for r in records],
    )


if __name__ == "__main__":
    for fixture in ensure_fixtures().values():
        print(fixture.name, len(fixture.fragment_paths), "fragments,", fixture.frames, "frames")
