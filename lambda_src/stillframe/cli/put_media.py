"""``stillframe put-media``: upload a video file to a stream through PutMedia, chunk by chunk.

stdout gets the service's acks, one JSON object per line; progress, warnings and the summary go to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from stillframe.cli.arguments import check_ca_bundle, check_endpoint, parse_producer_start
from stillframe.cli.connect import add_signing_options, control_client, require_reachable
from stillframe.cli.errors import CommandFailed, UsageError
from stillframe.cli.progress import human_bytes, progress_for
from stillframe.cli.session_endpoint import session_endpoint
from stillframe.cli.tally import UploadTally
from stillframe.client import Signing, signing_for
from stillframe.errors import MediaError
from stillframe.uploader import (
    CHUNK_TARGET_MS,
    LIVE_CHUNK_TARGET_MS,
    TIMECODE_TYPES,
    Chunk,
    ChunkFailed,
    ChunkRejected,
    EndpointError,
    PutMediaPoster,
    PutMediaTarget,
    Splitter,
    upload,
)
from stillframe.uploader.live import upload_live
from stillframe.uploader.session import SessionConnection

DEFAULT_RETENTION_HOURS = 24


def register(subparsers: Any) -> None:
    """Add the ``put-media`` subcommand."""
    parser = subparsers.add_parser(
        "put-media",
        help="upload a video file to a stream (PutMedia)",
        description="Cut FILE at key frames into chunks of at most 4 MiB and send each to PutMedia, with retries. "
        "Acks go to stdout as JSON lines; exit status 0 only if every fragment was persisted.",
    )
    parser.add_argument(
        "--endpoint-url", required=True, metavar="URL", help="service base URL, e.g. http://127.0.0.1:4577"
    )
    parser.add_argument("--stream", required=True, metavar="NAME", help="stream name")
    parser.add_argument("--create-stream", action="store_true", help="create the stream first (fine if it exists)")
    parser.add_argument(
        "--retention-hours",
        type=_retention_hours,
        metavar="H",
        help=f"DataRetentionInHours of a stream made by --create-stream (default: {DEFAULT_RETENTION_HOURS})",
    )
    parser.add_argument(
        "--producer-start-time",
        type=parse_producer_start,
        metavar="EPOCH|ISO8601",
        help="producer timestamp of the first frame: epoch seconds or ISO-8601, UTC if no offset (default: now)",
    )
    parser.add_argument(
        "--timecode-type",
        choices=TIMECODE_TYPES,
        default="RELATIVE",
        help="RELATIVE: frame times count from the producer start (default); ABSOLUTE: from the file's own timecodes",
    )
    parser.add_argument(
        "--generate-images",
        action="store_true",
        help="tag every fragment with KVS's image-generation tag (AWS_KINESISVIDEO_IMAGE_GENERATION), so a stream "
        "whose image generation configuration is ENABLED delivers its images to S3",
    )
    add_signing_options(parser)
    parser.add_argument("file", metavar="FILE", help="video file (MKV, MP4, MPEG-TS, ...) or a live URL")
    parser.set_defaults(run=run)


def run(
    args: argparse.Namespace, *, splitter: Splitter | None = None, probe: Callable[[str], int | None] | None = None
) -> int:
    """Upload FILE; exit status 0 only if every fragment was persisted."""
    if args.retention_hours is not None and not args.create_stream:
        raise UsageError("--retention-hours only applies with --create-stream")
    source = check_source(args.file)
    endpoint = check_endpoint(args.endpoint_url)
    bundle = check_ca_bundle(args.ca_bundle)
    if splitter is None or probe is None:
        splitter, probe = load_splitter()
    if getattr(args, "generate_images", False):
        splitter = partial(splitter, image_generation=True)
    total_ms = _probe(probe, source)  # unreadable media fails here, before anything is created
    require_reachable(endpoint)  # a refused connection is reported at once, not after the upload's retries
    signing = _signing(endpoint, args)
    if args.create_stream:
        create_stream(endpoint, args)
    start_ms = args.producer_start_time
    if start_ms is None:
        start_ms = int(time.time() * 1000)
        print(f"producer start: {format_ms(start_ms)} (now)", file=sys.stderr)
    target = PutMediaTarget(args.stream, start_ms, args.timecode_type)
    poster = PutMediaPoster(endpoint, signing, ca_bundle=bundle)
    live = _live_session(source, endpoint, target, args, bundle)
    tally = _send_all(source, target, poster, _noting(splitter), total_ms, live)
    if not tally.all_persisted:
        raise CommandFailed(_not_persisted(tally))
    return 0


def check_source(file: str) -> str:
    """The source to split: an existing readable file, or a URL (passed through to the splitter)."""
    if "://" in file:
        return file
    path = Path(file)
    if not path.is_file():
        raise UsageError(f"{file}: no such file")
    if not os.access(path, os.R_OK):
        raise UsageError(f"{file}: not readable")
    return str(path)


def create_stream(endpoint: str, args: argparse.Namespace) -> None:
    """CreateStream through the kinesisvideo client; an existing stream is fine."""
    hours = DEFAULT_RETENTION_HOURS if args.retention_hours is None else args.retention_hours
    try:
        control_client(args, endpoint).create_stream(StreamName=args.stream, DataRetentionInHours=hours)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") == "ResourceInUseException":
            print(f"stream {args.stream} already exists", file=sys.stderr)
            return
        raise CommandFailed(f"CreateStream failed: {error.get('Code')}: {error.get('Message')}") from exc
    except BotoCoreError as exc:
        raise CommandFailed(f"CreateStream failed: {exc}") from exc
    print(f"created stream {args.stream} (retention {hours} h)", file=sys.stderr)


def load_splitter() -> tuple[Splitter, Callable[[str], int | None]]:
    """``(iter_fragments, probe_duration_ms)`` from the media package (imported late: PyAV is slow to import)."""
    from stillframe.media.split import iter_fragments, probe_duration_ms

    return iter_fragments, probe_duration_ms


def format_ms(epoch_ms: int) -> str:
    """``2024-05-01T12:00:00.000Z (1714564800.000)``."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return (
        f"{moment.isoformat(timespec='milliseconds').replace('+00:00', 'Z')} ({epoch_ms // 1000}.{epoch_ms % 1000:03d})"
    )


def summary(tally: UploadTally, wall_s: float) -> str:
    """One line: fragments, bytes, seconds of video, wall time, producer time range."""
    line = (
        f"{_count(tally.persisted, 'fragment')} persisted in {_count(tally.chunks, 'chunk')}, "
        f"{human_bytes(tally.bytes_sent)}, "
        f"{tally.video_ms / 1000:.3f} s of video in {wall_s:.1f} s"
    )
    if tally.first_ms is not None and tally.end_ms is not None:
        line += f"; producer time {format_ms(tally.first_ms)} to {format_ms(tally.end_ms)}"
    return line


def _live_session(
    source: str, endpoint: str, target: PutMediaTarget, args: argparse.Namespace, bundle: str | None
) -> Callable[[], SessionConnection] | None:
    """For a live URL, how to open a session where GetDataEndpoint(PUT_MEDIA) says one can be held; else None."""
    if "://" not in source:
        return None  # a file: its chunks go up one request each, as fast as the service takes them
    session_url = session_endpoint(endpoint, args)
    if session_url is None:
        return None
    signing = _signing(session_url, args)
    return partial(SessionConnection, session_url, signing, target.session_headers(), ca_bundle=bundle)


def _send_all(
    source: str,
    target: PutMediaTarget,
    poster: PutMediaPoster,
    splitter: Splitter,
    total_ms: int | None,
    live_session: Callable[[], SessionConnection] | None = None,
) -> UploadTally:
    tally = UploadTally(target.producer_start_ms)
    progress = progress_for(sys.stderr, total_ms)
    started = time.monotonic()
    live = "://" in source  # a live URL: send fragments as they complete instead of waiting for 4 MiB
    chunk_ms = LIVE_CHUNK_TARGET_MS if live else CHUNK_TARGET_MS
    if live_session is not None:
        results = upload_live(source, target, live_session, splitter=splitter)
    else:
        results = upload(source, target, poster, splitter=splitter, chunk_target_ms=chunk_ms)
    try:
        for result in results:
            for ack in result.acks:
                print(json.dumps(ack), flush=True)
            tally.add(result)
            progress.chunk(result, tally)
    except MediaError as exc:
        raise (UsageError if tally.chunks == 0 else CommandFailed)(f"cannot read media {source}: {exc}") from exc
    except ChunkRejected as exc:
        hint = "; add --create-stream to create it" if exc.code == "ResourceNotFoundException" else ""
        raise CommandFailed((f"{exc.code}: {exc.message}" if exc.message else str(exc)) + hint) from exc
    except (ChunkFailed, EndpointError) as exc:
        raise CommandFailed(f"cannot upload to {live_session().url if live_session else poster.url}: {exc}") from exc
    finally:
        progress.finish()
        poster.close()
        if tally.chunks:
            print(summary(tally, time.monotonic() - started), file=sys.stderr)
    return tally


def _noting(splitter: Splitter) -> Splitter:
    """``splitter``, printing what it found about the file (timestamp restarts, an early end) as warnings."""

    def split(source: str, **options: Any) -> Iterator[Chunk]:
        for chunk in splitter(source, **options):
            for note in getattr(chunk, "notes", ()):
                print(f"warning: {source}: {note}", file=sys.stderr)
            yield chunk

    return split


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _probe(probe: Callable[[str], int | None], source: str) -> int | None:
    try:
        return probe(source)
    except MediaError as exc:
        raise UsageError(f"cannot read media {source}: {exc}") from exc


def _signing(endpoint: str, args: argparse.Namespace) -> Signing:
    try:
        signing = signing_for(endpoint, region=args.region, profile=args.profile, signing_name=args.signing_name)
    except BotoCoreError as exc:  # e.g. an unknown --profile
        raise UsageError(str(exc)) from exc
    if signing.credentials is None:
        raise CommandFailed("no AWS credentials found (set AWS_PROFILE, use --profile, or configure credentials)")
    return signing


def _not_persisted(tally: UploadTally) -> str:
    if tally.chunks == 0:
        return "the file holds no video to upload"
    parts = [f"{tally.errors} fragments refused"] if tally.errors else []
    if tally.empty_chunks:
        parts.append(f"{tally.empty_chunks} chunks got no acknowledgement")
    return "not every fragment was persisted: " + ", ".join(parts)


def _retention_hours(text: str) -> int:
    try:
        hours = int(text)
    except ValueError:
        hours = -1
    if hours < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of hours (0 or more)")
    return hours
