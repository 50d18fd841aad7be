"""``stillframe list-fragments`` and ``stillframe timeline``: what a stream holds, from ListFragments.

``list-fragments`` prints one line per fragment; ``timeline`` merges them into covered ranges and the gaps between
them, with fragment counts and sizes. Both read either timeline (producer or server time), the whole stream unless
``--start``/``--end`` narrow it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from stillframe.cli.arguments import check_endpoint, parse_producer_start
from stillframe.cli.connect import add_signing_options, add_stream_options, fail, media_client, stream_label, stream_ref
from stillframe.cli.errors import UsageError
from stillframe.cli.get_images import SELECTORS
from stillframe.cli.progress import human_bytes
from stillframe.cli.times import iso_ms, to_datetime

DEFAULT_MIN_GAP_MS = 100  # holes shorter than this (timestamp rounding, a dropped frame) are not called gaps
_FAR_FUTURE_MS = 10**13 - 1


@dataclass(frozen=True)
class Fragment:
    """One fragment on the chosen timeline."""

    number: str
    start_ms: int
    duration_ms: int
    size: int
    producer_ms: int
    server_ms: int

    @property
    def end_ms(self) -> int:
        """Where its coverage ends (exclusive)."""
        return self.start_ms + self.duration_ms


@dataclass(frozen=True)
class Span:
    """A covered range: fragments that follow each other with no hole longer than the minimum gap."""

    start_ms: int
    end_ms: int
    fragments: int
    size: int


def register(subparsers: Any) -> None:
    """Add ``list-fragments`` and ``timeline``."""
    listing = subparsers.add_parser(
        "list-fragments",
        help="print a stream's fragments (ListFragments)",
        description="One line per fragment: number, start on the chosen timeline, duration, size, both timestamps.",
    )
    _common(listing)
    listing.set_defaults(run=run_list)
    timeline = subparsers.add_parser(
        "timeline",
        help="print a stream's covered ranges and gaps",
        description="Covered ranges and the gaps between them, with fragment counts and sizes (from ListFragments).",
    )
    _common(timeline)
    timeline.add_argument(
        "--min-gap",
        type=int,
        default=DEFAULT_MIN_GAP_MS,
        metavar="MS",
        help="shorter holes between fragments are not reported as gaps (default: %(default)s)",
    )
    timeline.set_defaults(run=run_timeline)


def _common(parser: argparse.ArgumentParser) -> None:
    add_stream_options(parser)
    parser.add_argument("--start", type=parse_producer_start, metavar="EPOCH|ISO8601", help="from (default: any)")
    parser.add_argument("--end", type=parse_producer_start, metavar="EPOCH|ISO8601", help="to (default: any)")
    parser.add_argument("--selector", choices=SELECTORS, default="PRODUCER_TIMESTAMP", help="timeline to read")
    add_signing_options(parser)


def run_list(args: argparse.Namespace) -> int:
    """Print every fragment in time order."""
    fragments = load(args)
    print(f"{'fragment':>22}  {'start':<24}  {'length':>9}  {'size':>10}  producer / server time")
    for fragment in fragments:
        print(
            f"{fragment.number:>22}  {iso_ms(fragment.start_ms):<24}  {fragment.duration_ms / 1000:>7.3f} s  "
            f"{human_bytes(fragment.size):>10}  {iso_ms(fragment.producer_ms)} / {iso_ms(fragment.server_ms)}"
        )
    print(f"{_plural(len(fragments), 'fragment')}, {human_bytes(sum(f.size for f in fragments))}", file=sys.stderr)
    return 0


def run_timeline(args: argparse.Namespace) -> int:
    """Print the covered ranges and gaps."""
    if args.min_gap < 0:
        raise UsageError(f"--min-gap must be 0 or more, not {args.min_gap}")
    fragments = load(args)
    spans = coverage(fragments, args.min_gap)
    for line in describe(stream_label(args), args.selector, spans):
        print(line)
    return 0


def load(args: argparse.Namespace) -> list[Fragment]:
    """Every fragment of the stream in the range, sorted by start on the chosen timeline."""
    if args.start is not None and args.end is not None and args.end < args.start:
        raise UsageError("--end is before --start")
    endpoint = check_endpoint(args.endpoint_url)
    media = media_client(args, endpoint)
    try:
        fragments = list(list_fragments(media, args))
    except (ClientError, BotoCoreError) as exc:
        fail("ListFragments", exc, endpoint, stream_label(args))
    return sorted(fragments, key=lambda f: (f.start_ms, int(f.number)))


def coverage(fragments: list[Fragment], min_gap_ms: int = DEFAULT_MIN_GAP_MS) -> list[Span]:
    """Merge sorted fragments into covered spans; a hole of ``min_gap_ms`` or more starts a new span."""
    spans: list[Span] = []
    for fragment in fragments:
        last = spans[-1] if spans else None
        if last is not None and fragment.start_ms - last.end_ms < min_gap_ms:
            spans[-1] = Span(
                last.start_ms, max(last.end_ms, fragment.end_ms), last.fragments + 1, last.size + fragment.size
            )
        else:
            spans.append(Span(fragment.start_ms, fragment.end_ms, 1, fragment.size))
    return spans


def describe(stream: str, selector: str, spans: list[Span]) -> Iterator[str]:
    """The lines ``timeline`` prints: a summary, then covered ranges and gaps in time order."""
    count = sum(span.fragments for span in spans)
    covered_ms = sum(span.end_ms - span.start_ms for span in spans)
    size = sum(span.size for span in spans)
    if not spans:
        yield f"{stream} ({selector}): no fragments"
        return
    gaps = len(spans) - 1
    yield (
        f"{stream} ({selector}): {_plural(count, 'fragment')}, {human_bytes(size)}, "
        f"{_seconds(covered_ms)} covered from {iso_ms(spans[0].start_ms)} to {iso_ms(spans[-1].end_ms)}, "
        f"{_plural(gaps, 'gap')}"
    )
    for previous, span in zip([None, *spans], spans, strict=False):
        if previous is not None:
            hole = _seconds(span.start_ms - previous.end_ms)
            yield f"gap      {iso_ms(previous.end_ms)}  {iso_ms(span.start_ms)}  {hole}"
        yield (
            f"covered  {iso_ms(span.start_ms)}  {iso_ms(span.end_ms)}  {_seconds(span.end_ms - span.start_ms)}, "
            f"{_plural(span.fragments, 'fragment')}, {human_bytes(span.size)}"
        )


def list_fragments(media: Any, args: argparse.Namespace) -> Iterator[Fragment]:
    """ListFragments of ``args``' stream, every page, in ``args.start``..``args.end`` on ``args.selector``."""
    request: dict[str, Any] = dict(stream_ref(args))
    if args.start is not None or args.end is not None:
        start = 0 if args.start is None else args.start
        end = _FAR_FUTURE_MS if args.end is None else args.end
        request["FragmentSelector"] = {
            "FragmentSelectorType": args.selector,
            "TimestampRange": {"StartTimestamp": to_datetime(start), "EndTimestamp": to_datetime(end)},
        }
    producer = args.selector == "PRODUCER_TIMESTAMP"
    for page in media.get_paginator("list_fragments").paginate(**request, PaginationConfig={"PageSize": 1000}):
        for item in page["Fragments"]:
            producer_ms = _ms(item["ProducerTimestamp"])
            server_ms = _ms(item["ServerTimestamp"])
            yield Fragment(
                number=item["FragmentNumber"],
                start_ms=producer_ms if producer else server_ms,
                duration_ms=int(item["FragmentLengthInMilliseconds"]),
                size=int(item["FragmentSizeInBytes"]),
                producer_ms=producer_ms,
                server_ms=server_ms,
            )


def _ms(moment: datetime) -> int:
    return round(moment.astimezone(UTC).timestamp() * 1000)


def _seconds(ms: int) -> str:
    return f"{ms / 1000:.3f} s"


def _plural(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
