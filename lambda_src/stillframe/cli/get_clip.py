"""``stillframe get-clip``: one MP4 of a time range of any length, from as many GetClip requests as it takes.

The range is cut into pieces at fragment starts (from ListFragments): a piece is at most 200 fragments (GetClip's
limit) and about 4 MB of stored fragments (under the deployed API's 4,706,379-byte answer). A piece the service
still refuses with InvalidArgumentException (a limit) is halved at its middle fragment and asked again; a single
fragment refused is an error. Cutting at fragment starts means each piece after the first begins on a key frame
(a fragment starts with one, and with B-frames no frame of one fragment refers to another), and a piece's
EndTimestamp is 1 ms before the next piece's start: GetClip keeps every frame starting at or before it, so each
frame is in exactly one piece. The pieces are joined packet by packet (``media.clip_join``) into a temporary file
beside ``--out``, renamed over it only when complete.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from stillframe.cli.arguments import add_time_range, check_endpoint, positive_int
from stillframe.cli.connect import add_signing_options, add_stream_options, fail, media_client, stream_label, stream_ref
from stillframe.cli.errors import CommandFailed, UsageError
from stillframe.cli.progress import BAR_WIDTH, human_bytes
from stillframe.cli.timeline import Fragment, list_fragments
from stillframe.cli.times import iso_ms, to_datetime
from stillframe.errors import MediaError

MAX_PIECE_FRAGMENTS = 200  # GetClip's fragment limit
MAX_PIECE_BYTES = 4_000_000  # stored bytes; the MP4 adds its index and the first GOP's hidden head
MAX_PIECE_SPAN_MS = 24 * 3600 * 1000  # GetClip refuses End - Start over 24 h


def register(subparsers: Any) -> None:
    """Add the ``get-clip`` subcommand."""
    parser = subparsers.add_parser(
        "get-clip",
        help="save a time range as one MP4 (GetClip, any length)",
        description="Save --start..--end as one MP4: asked for in pieces GetClip allows, joined without "
        "re-encoding (every track), written to --out only when complete.",
    )
    add_stream_options(parser)
    add_time_range(parser)
    parser.add_argument(
        "--server-time", action="store_true", help="--start/--end are server timestamps (default: producer)"
    )
    parser.add_argument("--out", required=True, metavar="FILE", help="the MP4 to write")
    # Test knobs: smaller pieces than the service's limits.
    parser.add_argument("--piece-fragments", type=positive_int, default=MAX_PIECE_FRAGMENTS, help=argparse.SUPPRESS)
    parser.add_argument("--piece-bytes", type=positive_int, default=MAX_PIECE_BYTES, help=argparse.SUPPRESS)
    add_signing_options(parser)
    parser.set_defaults(run=run)


@dataclass(frozen=True)
class Piece:
    """One GetClip request: ``start_ms``..``end_ms`` (inclusive, as EndTimestamp) and the fragments it covers."""

    start_ms: int
    end_ms: int
    fragments: tuple[Fragment, ...]

    def halves(self) -> tuple[Piece, Piece]:
        """The piece cut at its middle fragment's start."""
        middle = len(self.fragments) // 2
        first, second = self.fragments[:middle], self.fragments[middle:]
        return (
            Piece(self.start_ms, _end_before(first[-1], second[0].start_ms), first),
            Piece(second[0].start_ms, self.end_ms, second),
        )


def run(args: argparse.Namespace) -> int:
    """Fetch, join and write the clip; exit status 0 when the file is written."""
    if args.end <= args.start:
        raise UsageError("--end must be after --start")
    endpoint = check_endpoint(args.endpoint_url)
    out = Path(args.out)
    if out.is_dir():
        raise UsageError(f"--out {out} is a directory; give a file name such as clip.mp4")
    if not out.parent.is_dir():
        raise UsageError(f"--out {out}: no directory {out.parent}")
    args.selector = "SERVER_TIMESTAMP" if args.server_time else "PRODUCER_TIMESTAMP"
    media = media_client(args, endpoint)
    try:
        fragments = sorted(list_fragments(media, args), key=lambda f: (f.start_ms, int(f.number)))
    except (ClientError, BotoCoreError) as exc:
        fail("ListFragments", exc, endpoint, stream_label(args))
    pieces = plan(fragments, args.start, args.end, args.piece_fragments, args.piece_bytes)
    part = out.with_name(f".{out.name}.{os.getpid()}.part")
    progress = PieceProgress(sys.stderr, len(pieces))
    try:
        written = _join(media, args, pieces, part, progress)
        os.replace(part, out)
    finally:
        progress.finish()
        part.unlink(missing_ok=True)
    print(
        f"wrote {out}: {iso_ms(args.start)} to {iso_ms(args.end)} of {stream_label(args)}, "
        f"{written} GetClip pieces, {human_bytes(out.stat().st_size)}",
        file=sys.stderr,
    )
    return 0


def plan(fragments: list[Fragment], start_ms: int, end_ms: int, max_fragments: int, max_bytes: int) -> list[Piece]:
    """The GetClip pieces of ``start_ms``..``end_ms``, cut at fragment starts (one piece when none is listed)."""
    inside = [f for f in fragments if f.start_ms <= end_ms]
    if not inside:
        return [Piece(start_ms, end_ms, ())]
    groups: list[list[Fragment]] = [[]]
    size = 0
    for fragment in inside:
        group = groups[-1]
        piece_start = max(start_ms, group[0].start_ms) if group else 0
        full = len(group) >= max_fragments or size + fragment.size > max_bytes
        if group and (full or fragment.end_ms - piece_start > MAX_PIECE_SPAN_MS):
            groups.append([])
            size = 0
        groups[-1].append(fragment)
        size += fragment.size
    pieces = []
    for index, group in enumerate(groups):
        first = start_ms if index == 0 else group[0].start_ms
        last = (
            min(end_ms, group[-1].end_ms)
            if index == len(groups) - 1
            else _end_before(group[-1], groups[index + 1][0].start_ms)
        )
        pieces.append(Piece(first, max(last, first + 1), tuple(group)))
    return pieces


def _end_before(last: Fragment, next_start_ms: int) -> int:
    """EndTimestamp of a piece ending with ``last``: every frame of it, none of the fragment at ``next_start_ms``."""
    return min(next_start_ms - 1, last.end_ms)


def _join(media: Any, args: argparse.Namespace, pieces: list[Piece], part: Path, progress: PieceProgress) -> int:
    from stillframe.media.clip_join import ClipJoiner

    done = 0
    try:
        with ClipJoiner(part) as joiner:
            for piece, mp4 in fetch(media, args, pieces, progress):
                joiner.add(mp4, piece.start_ms - args.start)
                done += 1
                progress.update(done, len(mp4))
    except MediaError as exc:
        raise CommandFailed(f"cannot join the clips: {exc}") from exc
    return done


def fetch(
    media: Any, args: argparse.Namespace, pieces: list[Piece], progress: PieceProgress
) -> Iterator[tuple[Piece, bytes]]:
    """``(piece, MP4 bytes)`` in time order; a piece refused for a limit is asked for again as two halves."""
    queue = list(reversed(pieces))
    while queue:
        piece = queue.pop()
        try:
            yield piece, _get_clip(media, args, piece)
        except ClientError as exc:
            if _error_code(exc) == "InvalidArgumentException" and len(piece.fragments) > 1:
                first, second = piece.halves()
                queue += [second, first]
                progress.grow(1)
                continue
            _fail_piece(exc, args, piece)
        except BotoCoreError as exc:
            fail("GetClip", exc, args.endpoint_url, stream_label(args))


def _get_clip(media: Any, args: argparse.Namespace, piece: Piece) -> bytes:
    answer = media.get_clip(
        **stream_ref(args),
        ClipFragmentSelector={
            "FragmentSelectorType": args.selector,
            "TimestampRange": {
                "StartTimestamp": to_datetime(piece.start_ms),
                "EndTimestamp": to_datetime(piece.end_ms),
            },
        },
    )
    return bytes(answer["Payload"].read())


def _fail_piece(exc: ClientError, args: argparse.Namespace, piece: Piece) -> None:
    if _error_code(exc) == "ResourceNotFoundException" and piece.start_ms == args.start:
        # ListFragments already found the stream: here "not found" means no fragment in the range.
        raise CommandFailed(
            f"no media in {stream_label(args)} from {iso_ms(args.start)} to {iso_ms(args.end)} ({args.selector})"
        ) from exc
    fail("GetClip", exc, args.endpoint_url, stream_label(args))


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class PieceProgress:
    """A redrawn ``[####....] 3/7 pieces  12.3 MiB`` bar on a terminal; nothing otherwise (the summary follows)."""

    def __init__(self, stream: TextIO, total: int) -> None:
        self._stream = stream
        self._total = total
        self._bytes = 0
        self._on = stream.isatty()

    def grow(self, extra: int) -> None:
        """A piece was split: ``extra`` more to fetch."""
        self._total += extra

    def update(self, done: int, size: int) -> None:
        """Redraw after ``done`` pieces, the last of ``size`` bytes."""
        self._bytes += size
        if not self._on:
            return
        filled = round(BAR_WIDTH * done / self._total)
        bar = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{self._total} pieces  {human_bytes(self._bytes)}"
        self._stream.write("\r" + bar)
        self._stream.flush()

    def finish(self) -> None:
        """End the bar's line."""
        if self._on and self._bytes:
            self._stream.write("\n")
            self._stream.flush()
