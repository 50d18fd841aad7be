"""What is measured: the scenario matrix, the samples of each scenario and the frames they need.

A scenario is one (stream, span, interval, output, cores, method) cell. Every method extracts the same
samples; the frame each sample must show is known from the fixture layout alone (constant 25 fps, 2 s closed
GOPs), so the expected frame numbers and the key-frame-to-sample floor are computed here, independently of
Stillframe's own code (the reference-chain floor, which B-frames lower, needs the bitstream: ``bench.limit``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from bench.content import FPS, GOP
from bench.fixtures import T0_MS, StreamFixture, stream_name

FRAME_MS = 1000 // FPS
PAGE_SIZE = 25  # GetImages' page size
# Pages start 12 s into the stream: a GOP and fragment start, so a 200 ms page of 6 s fragments lies in one fragment
# (three GOPs that only GOP-level parallelism can spread over cores).
PAGE_START_S = 12
METHODS = ("engine", "engine-s3sim", "serve", "ffmpeg", "ffmpeg-mt", "naive", "limit", "cold", "import")
OUTPUTS = {  # name: (Format, width, height); None = the source size
    "jpeg": ("JPEG", None, None),
    "jpeg640": ("JPEG", 640, 360),
    "png": ("PNG", None, None),
}


@dataclass(frozen=True)
class Scenario:
    """One measurement: a method extracting one set of samples from one stream."""

    stream: str
    span: str  # "page" (one GetImages page) or "range" (every sample of the stream, page after page)
    interval_ms: int
    output: str  # a key of OUTPUTS
    cores: int  # 1 (taskset -c 0) or 2
    method: str  # a member of METHODS
    reps: int = 1
    max_results: int = PAGE_SIZE  # smaller for full-size PNG: two 1080p PNGs fill the 6 MB response

    @property
    def key(self) -> str:
        """The scenario without the method: rows with the same key are compared with each other."""
        return f"{self.stream}/{self.span}/{self.interval_ms}ms/{self.output}"

    @property
    def name(self) -> str:
        """A unique, readable id."""
        return f"{self.key}/{self.cores}c/{self.method}"

    def to_json(self) -> dict[str, object]:
        """Plain fields, for the worker's command line and the results file."""
        return asdict(self)


def sample_times(scenario: Scenario, fixture: StreamFixture) -> list[int]:
    """Absolute sample times (epoch ms) the scenario extracts, in order."""
    length_ms = fixture.frames * FRAME_MS
    if scenario.span == "range":
        start, end = T0_MS, T0_MS + length_ms - scenario.interval_ms
    else:
        start = T0_MS + (PAGE_START_S * 1000 if length_ms > 30_000 else 0)
        end = min(start + (scenario.max_results - 1) * scenario.interval_ms, T0_MS + length_ms - scenario.interval_ms)
    return list(range(start, end + 1, scenario.interval_ms))


def pages(samples: list[int], page_size: int) -> list[list[int]]:
    """The samples as GetImages pages them."""
    return [samples[i : i + page_size] for i in range(0, len(samples), page_size)]


def expected_frame(t_ms: int) -> int:
    """The frame number on screen at ``t_ms`` (the frame code drawn into that frame)."""
    return (t_ms - T0_MS) // FRAME_MS


def least_frames(samples: list[int]) -> int:
    """The key-frame-to-sample floor of one request: per GOP, key frame through the last wanted frame."""
    deepest: dict[int, int] = {}
    for t_ms in samples:
        gop, position = divmod(expected_frame(t_ms), GOP)
        deepest[gop] = max(deepest.get(gop, -1), position)
    return sum(position + 1 for position in deepest.values())


def request_body(scenario: Scenario, samples: list[int]) -> dict[str, object]:
    """The GetImages request that asks for exactly these samples."""
    image_format, width, height = OUTPUTS[scenario.output]
    body: dict[str, object] = {
        "StreamName": scenario.stream,
        "ImageSelectorType": "PRODUCER_TIMESTAMP",
        "StartTimestamp": samples[0] / 1000,
        "EndTimestamp": samples[-1] / 1000,
        "SamplingInterval": scenario.interval_ms,
        "Format": image_format,
        "MaxResults": scenario.max_results,
    }
    if image_format == "JPEG":
        body["FormatConfig"] = {"JPEGQuality": "80"}
    if width is not None:
        body["WidthPixels"], body["HeightPixels"] = width, height
    return body


def build_matrix(quick: bool = False) -> list[Scenario]:
    """Every scenario of a run; ``quick`` keeps the matrix but measures each cell once.

    Single-threaded ffmpeg runs on one core and ffmpeg with its default threads on two (the fair peer for each).
    Pages are repeated (3 times for Stillframe and the limit, twice for the slower peers); ranges run once.
    """
    reps = (1, 1, 1) if quick else (3, 2, 1)  # Stillframe and limit pages, peer pages, ranges
    main, six, hd, uhd = (stream_name(*name) for name in (("1080p", 2), ("1080p", 6), ("720p", 2), ("2160p", 2)))
    plain = (("engine", "ffmpeg"), ("engine", "ffmpeg-mt"))
    cells: list[Scenario] = []
    for interval in (1000, 200):  # the main case: 1080p, 2 s fragments, JPEG q80 at full size
        both = ("engine", "serve", "naive")
        cells += _cells(main, "page", interval, "jpeg", ((*both, "ffmpeg"), (*both, "ffmpeg-mt")), reps)
    cells += _cells(
        main, "range", 1000, "jpeg", (("engine", "serve", "ffmpeg", "naive"), ("engine", "serve", "ffmpeg-mt")), reps
    )
    cells += _cells(
        main,
        "range",
        200,
        "jpeg",
        (("engine", "engine-s3sim", "ffmpeg", "naive"), ("engine", "engine-s3sim", "ffmpeg-mt")),
        reps,
    )
    for output in ("jpeg640", "png"):
        size = 2 if output == "png" else PAGE_SIZE  # two 1080p PNGs (~2.3 MB of base64 each) fill the 6 MB response
        for interval in (1000, 200):
            cells += _cells(main, "page", interval, output, (("engine", "ffmpeg", "naive"), plain[1]), reps, size)
    cells += _cells(main, "range", 1000, "png", plain, reps, 2)
    for stream in (six, hd, uhd):
        size = 7 if stream == uhd else PAGE_SIZE  # seven 4K JPEGs (~700 kB of base64 each) fill the response
        for interval in (1000, 200):
            cells += _cells(stream, "page", interval, "jpeg", plain, reps, size)
    cells += _cells(six, "range", 200, "jpeg", plain, reps)
    bframes = stream_name("1080pB", 2)  # B-frames and a B-pyramid: the reference chain is below the key-frame floor
    for interval in (1000, 200):
        cells += _cells(bframes, "page", interval, "jpeg", ((*plain[0], "serve"), plain[1]), reps)
    cells += _cells(bframes, "range", 200, "jpeg", plain, reps)
    for interval in (1000, 200):  # a new process answering its first page, as a Lambda cold start would
        cells += [Scenario(main, "page", interval, "jpeg", cores, "cold", reps[0]) for cores in (1, 2)]
    cells.append(Scenario(main, "page", 1000, "jpeg", 2, "import", 3 if quick else 5))
    return cells


def _cells(
    stream: str,
    span: str,
    interval: int,
    output: str,
    methods: tuple[tuple[str, ...], tuple[str, ...]],
    reps: tuple[int, int, int],
    max_results: int = PAGE_SIZE,
) -> list[Scenario]:
    """The decode limit (measured on one core), then the methods on one core and on two."""
    own, peers, whole = reps
    base = Scenario(stream, span, interval, output, 1, "limit", own if span == "page" else whole, max_results)
    cells = [base]
    for cores, names in zip((1, 2), methods, strict=True):
        for method in names:
            count = whole if span == "range" else peers if method in ("ffmpeg", "ffmpeg-mt", "naive") else own
            cells.append(replace(base, cores=cores, method=method, reps=count))
    return cells
