"""What is measured: the scenario matrix, the samples of each scenario and the frames they need.

A scenario is one (stream, span, interval, output, cores, method) cell. Every method extracts the same
samples; the frame each sample must show is known from the fixture layout alone (constant 25 fps, 2 s GOPs,
no B-frames), so the expected frame numbers and the least decoding are computed here, independently of
Stillframe's own code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from bench.content import FPS, GOP
from bench.fixtures import T0_MS, StreamFixture, stream_name

FRAME_MS = 1000 // FPS
PAGE_SIZE = 25  # GetImages' page size
PAGE_START_S = 10  # pages start 10 s into the stream: a GOP start, inside a 6 s fragment that began earlier
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
    """Frames one request must decode for these samples: per GOP, key frame through the last wanted frame."""
    deepest: dict[int, int] = {}
    for t_ms in samples:
        gop, position = divmod(expected_frame(t_ms), GOP)
        deepest[gop] = max(deepest.get(gop, -1), position)
    return sum(position + 1 for position in deepest.values())


def least_frames_paged(samples: list[int], page_size: int) -> int:
    """The least decoding when each page is its own request (what the engine can reach)."""
    return sum(least_frames(page) for page in pages(samples, page_size))


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
    """Every scenario of a run; ``quick`` keeps the matrix but measures each cell once."""
    page_reps, range_reps = (1, 1) if quick else (3, 1)
    cells: list[Scenario] = []
    main, six, hd, uhd = stream_name("1080p", 2), stream_name("1080p", 6), stream_name("720p", 2), stream_name("2160p", 2)
    all_methods = ("engine", "serve", "ffmpeg", "ffmpeg-mt", "naive")
    for span, interval in (("page", 1000), ("page", 200), ("range", 1000), ("range", 200)):
        reps = page_reps if span == "page" else range_reps
        methods = (*all_methods, "engine-s3sim") if span == "range" else all_methods
        cells += _cells(main, span, interval, "jpeg", methods, reps)
    for output in ("jpeg640", "png"):
        max_results = 2 if output == "png" else PAGE_SIZE
        for interval in (1000, 200):
            cells += _cells(main, "page", interval, output, ("engine", "ffmpeg", "naive"), page_reps, max_results)
        if output == "png":
            cells += _cells(main, "range", 1000, output, ("engine", "ffmpeg"), range_reps, max_results)
    for stream in (six, hd, uhd):
        for interval in (1000, 200):
            cells += _cells(stream, "page", interval, "jpeg", ("engine", "ffmpeg", "ffmpeg-mt"), page_reps)
    cells += _cells(six, "range", 200, "jpeg", ("engine", "ffmpeg"), range_reps)
    for interval in (1000, 200):  # a new process answering its first page, as a Lambda cold start would
        cells += [Scenario(main, "page", interval, "jpeg", cores, "cold", 2 if quick else 3) for cores in (1, 2)]
    cells.append(Scenario(main, "page", 1000, "jpeg", 2, "import", 3 if quick else 5))
    return cells


def _cells(
    stream: str, span: str, interval: int, output: str, methods: tuple[str, ...], reps: int, max_results: int = PAGE_SIZE
) -> list[Scenario]:
    """The methods on one and two cores (ffmpeg-mt only on two), plus the decode limit (measured on one core)."""
    base = Scenario(stream, span, interval, output, 1, "limit", reps, max_results)
    cells = [base]
    for cores in (1, 2):
        for method in methods:
            if method == "ffmpeg-mt" and cores == 1:
                continue
            cells.append(replace(base, cores=cores, method=method))
    return cells
