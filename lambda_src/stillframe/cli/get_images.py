"""``stillframe get-images``: save the stills of a time range as files, through GetImages with boto3.

One file per sample, named by its timestamp (``2026-11-26T10-00-00.520Z.jpg``). A range longer than GetImages
allows in one request (300 s) is asked for in windows that continue the same sample sequence. Samples without a
still (NO_MEDIA, MEDIA_ERROR) are listed after a summary line; ``--contact-sheet`` adds a labelled grid.
"""

from __future__ import annotations

import argparse
import base64
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from stillframe.cli.arguments import add_time_range, check_endpoint
from stillframe.cli.connect import (
    add_signing_options,
    add_stream_options,
    fail,
    media_client,
    stream_label,
    stream_ref,
)
from stillframe.cli.errors import CommandFailed, UsageError
from stillframe.cli.progress import BAR_WIDTH
from stillframe.cli.times import iso_ms, to_datetime

SELECTORS = ("PRODUCER_TIMESTAMP", "SERVER_TIMESTAMP")
FORMATS = ("JPEG", "PNG")
MIN_INTERVAL_MS = 200
MAX_WINDOW_MS = 300_000  # GetImages refuses End - Start > 300 s
PAGE_SIZE = 25
DEFAULT_INTERVAL_MS = 1000


def register(subparsers: Any) -> None:
    """Add the ``get-images`` subcommand."""
    parser = subparsers.add_parser(
        "get-images",
        help="save the stills of a time range as files (GetImages)",
        description="Fetch one still every --interval ms from --start to --end and write each to --out, named by "
        "its timestamp. Samples with no still (NO_MEDIA, MEDIA_ERROR) are listed at the end.",
    )
    add_stream_options(parser)
    add_time_range(parser)
    parser.add_argument(
        "--interval",
        type=int,
        default=DEFAULT_INTERVAL_MS,
        metavar="MS",
        help=f"milliseconds between samples, at least {MIN_INTERVAL_MS} (default: %(default)s)",
    )
    parser.add_argument("--selector", choices=SELECTORS, default="PRODUCER_TIMESTAMP", help="timeline to sample")
    parser.add_argument("--format", choices=FORMATS, default="JPEG", help="image format (default: %(default)s)")
    parser.add_argument("--quality", type=int, metavar="1-100", help="JPEG quality (default: the service's, 80)")
    parser.add_argument("--width", type=int, metavar="PX", help="width in pixels (needs --height)")
    parser.add_argument("--height", type=int, metavar="PX", help="height in pixels (alone: width from the aspect)")
    parser.add_argument("--out", default="stills", metavar="DIR", help="directory for the stills (default: stills)")
    parser.add_argument(
        "--contact-sheet",
        nargs="?",
        const="",
        metavar="FILE",
        help="also write a contact sheet of every sample (default file: DIR/contact-sheet.jpg)",
    )
    add_signing_options(parser)
    parser.set_defaults(run=run)


@dataclass(frozen=True)
class Sample:
    """One sample's outcome: the file written, or the error GetImages gave."""

    time_ms: int
    path: Path | None = None
    error: str | None = None


@dataclass
class Request:
    """The validated GetImages parameters shared by every window."""

    stream: dict[str, str]
    selector: str
    start_ms: int
    end_ms: int
    interval_ms: int
    image_format: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def count(self) -> int:
        """How many samples the range holds (at least one: the start)."""
        return (self.end_ms - self.start_ms) // self.interval_ms + 1


def run(args: argparse.Namespace) -> int:
    """Save every still of the range; exit status 0 when at least one still was saved."""
    request = build_request(args)
    endpoint = check_endpoint(args.endpoint_url)
    out = _out_dir(args.out)
    media = media_client(args, endpoint)
    samples: list[Sample] = []
    progress = SampleProgress(sys.stderr, request.count)
    thumbnails: list[Any] | None = [] if args.contact_sheet is not None else None
    try:
        for time_ms, content, error in fetch(media, request):
            sample = save(out, time_ms, content, request.image_format) if content else Sample(time_ms, error=error)
            samples.append(sample)
            if thumbnails is not None:
                thumbnails.append(_thumbnail(sample))
            progress.update(len(samples))
    except (ClientError, BotoCoreError) as exc:
        fail("GetImages", exc, endpoint, stream_label(args))
    finally:
        progress.finish()
    print(summary(samples, out), file=sys.stderr)
    for sample in samples:
        if sample.error:
            print(f"  {iso_ms(sample.time_ms)} {sample.error}", file=sys.stderr)
    if thumbnails is not None:
        from stillframe.cli.contact_sheet import write_contact_sheet

        sheet = Path(args.contact_sheet) if args.contact_sheet else out / "contact-sheet.jpg"
        outcomes = [(sample.time_ms, sample.error) for sample in samples]
        write_contact_sheet(
            sheet,
            stream=stream_label(args),
            selector=request.selector,
            start_ms=request.start_ms,
            end_ms=request.end_ms,
            interval_ms=request.interval_ms,
            samples=outcomes,
            thumbnails=thumbnails,
        )
        print(f"contact sheet: {sheet}", file=sys.stderr)
    if not any(sample.path for sample in samples):
        raise CommandFailed(f"no stills in that range: every sample is {_errors_text(samples)}")
    return 0


def build_request(args: argparse.Namespace) -> Request:
    """Check the flags against GetImages' rules before any request is made."""
    if args.end < args.start:
        raise UsageError("--end is before --start")
    if args.interval < MIN_INTERVAL_MS:
        raise UsageError(f"--interval must be at least {MIN_INTERVAL_MS} ms, not {args.interval}")
    options: dict[str, Any] = {}
    if args.quality is not None:
        if args.format != "JPEG":
            raise UsageError("--quality only applies with --format JPEG")
        if not 1 <= args.quality <= 100:
            raise UsageError(f"--quality must be 1 to 100, not {args.quality}")
        options["FormatConfig"] = {"JPEGQuality": str(args.quality)}
    if args.width is not None and args.height is None:
        raise UsageError("--width needs --height (--height alone keeps the aspect ratio)")
    for name in ("width", "height"):
        value = getattr(args, name)
        if value is not None:
            if value < 1:
                raise UsageError(f"--{name} must be at least 1 pixel, not {value}")
            options[f"{name.capitalize()}Pixels"] = value
    return Request(stream_ref(args), args.selector, args.start, args.end, args.interval, args.format, options)


def windows(request: Request) -> Iterator[tuple[int, int]]:
    """``(start_ms, end_ms)`` of each GetImages request: at most 300 s each, continuing one sample sequence."""
    per_window = MAX_WINDOW_MS // request.interval_ms + 1
    first = 0
    while first < request.count:
        last = min(first + per_window, request.count) - 1
        yield request.start_ms + first * request.interval_ms, request.start_ms + last * request.interval_ms
        first = last + 1


def fetch(media: Any, request: Request) -> Iterator[tuple[int, bytes | None, str | None]]:
    """``(sample ms, image bytes or None, error or None)`` for every sample, in time order."""
    paginator = media.get_paginator("get_images")
    for start_ms, end_ms in windows(request):
        pages = paginator.paginate(
            **request.stream,
            ImageSelectorType=request.selector,
            StartTimestamp=to_datetime(start_ms),
            EndTimestamp=to_datetime(end_ms),
            SamplingInterval=request.interval_ms,
            Format=request.image_format,
            PaginationConfig={"PageSize": PAGE_SIZE},
            **request.options,
        )
        for page in pages:
            for image in page["Images"]:
                time_ms = round(image["TimeStamp"].timestamp() * 1000)
                content = image.get("ImageContent")
                yield time_ms, base64.b64decode(content) if content else None, image.get("Error", "NO_MEDIA")


def save(out: Path, time_ms: int, content: bytes, image_format: str) -> Sample:
    """Write one still as ``OUT/<timestamp>.jpg`` (or .png)."""
    suffix = ".png" if image_format == "PNG" else ".jpg"
    path = out / (file_stamp(time_ms) + suffix)
    path.write_bytes(content)
    return Sample(time_ms, path=path)


def summary(samples: list[Sample], out: Path) -> str:
    """``saved 28 of 30 stills to DIR; 2 without a still: 1 NO_MEDIA, 1 MEDIA_ERROR``."""
    saved = sum(1 for sample in samples if sample.path)
    line = f"saved {saved} of {len(samples)} stills to {out}"
    missing = len(samples) - saved
    if missing:
        line += f"; {missing} without a still: {_errors_text(samples)}"
    return line


def file_stamp(epoch_ms: int) -> str:
    """``2026-11-26T10-00-00.520Z``: the ISO time with the colons that some file systems refuse replaced."""
    return iso_ms(epoch_ms).replace(":", "-")


class SampleProgress:
    """A redrawn ``[####....] 12/30 stills`` bar on a terminal; nothing otherwise (the summary follows)."""

    def __init__(self, stream: TextIO, total: int) -> None:
        self._stream = stream
        self._total = total
        self._on = stream.isatty()
        self._started = time.monotonic()

    def update(self, done: int) -> None:
        """Redraw the bar for ``done`` samples."""
        if not self._on:
            return
        filled = round(BAR_WIDTH * done / self._total)
        elapsed = time.monotonic() - self._started
        bar = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{self._total} stills  {elapsed:.1f} s"
        self._stream.write("\r" + bar)
        self._stream.flush()

    def finish(self) -> None:
        """End the bar's line."""
        if self._on:
            self._stream.write("\n")
            self._stream.flush()


def _errors_text(samples: list[Sample]) -> str:
    counts: dict[str, int] = {}
    for sample in samples:
        if sample.error:
            counts[sample.error] = counts.get(sample.error, 0) + 1
    return ", ".join(f"{count} {error}" for error, count in counts.items())


def _thumbnail(sample: Sample) -> Any:
    from stillframe.cli.contact_sheet import thumbnail

    return thumbnail(sample.path) if sample.path else None


def _out_dir(text: str) -> Path:
    out = Path(text)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create --out directory {out}: {exc.strerror or exc}") from exc
    return out
