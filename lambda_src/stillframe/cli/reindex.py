"""``stillframe reindex``: repair streams after crashes: finish or undo interrupted writes, rebuild the index.

The catalog owns the work (``stillframe.catalog.repair``); this is only the command around it. It works on
the local store (``--data-dir``) or on S3 (``--bucket``, ``--prefix``, the standard AWS environment).
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from stillframe.catalog.repair import PENDING_GRACE_MS
from stillframe.cli.errors import CommandFailed, UsageError
from stillframe.settings import Settings
from stillframe.wiring import build


def register(subparsers: Any) -> None:
    """Add the ``reindex`` subcommand."""
    parser = subparsers.add_parser(
        "reindex",
        help="repair streams: finish or undo interrupted writes, rebuild the fragment index",
        description=(
            "Repair STREAM (or every stream): interrupted writes older than --grace-seconds are finished or undone, "
            "orphan fragment blobs are removed, and the index markers are rebuilt to match the stored fragments. "
            "With --all, the media left by deleted streams is removed too."
        ),
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--data-dir", type=Path, metavar="DIR", help="the directory `stillframe serve` uses")
    where.add_argument("--bucket", metavar="NAME", help="the S3 bucket of a deployed Stillframe")
    parser.add_argument("--prefix", default="", metavar="PREFIX", help="key prefix inside the bucket")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--stream", metavar="NAME", help="stream name")
    which.add_argument("--all", action="store_true", help="every stream")
    parser.add_argument(
        "--grace-seconds",
        type=float,
        default=PENDING_GRACE_MS / 1000,
        metavar="S",
        help="leave interrupted writes younger than this alone: an upload may still be running (default: %(default)s)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Open the store and repair the named stream (or all of them)."""
    if args.grace_seconds < 0:
        raise UsageError("--grace-seconds must be 0 or more")
    svc = build(_settings(args))  # the environment's Region and account, as the server's ARNs have them
    catalog = svc.streams
    if args.all:
        records = list(catalog.list())
    else:
        record = catalog.load(args.stream)
        if record is None:
            raise CommandFailed(f"stream {args.stream} does not exist in {_where(args)}")
        records = [record]
    if args.all:
        finished = catalog.purge_deleted()  # media of streams deleted while DeleteStream's budget ran out
        if finished:
            print(f"finished deleting the media of {finished} deleted streams")
    index = svc.fragments
    for record in records:
        report = index.reindex(record.media_id, grace_ms=int(args.grace_seconds * 1000))
        details = ", ".join(
            f"{name.replace('_', ' ')} {value}"
            for name, value in asdict(report).items()
            if value and name != "fragments"
        )
        print(f"reindexed stream {record.name}: {report.fragments} fragments" + (f" ({details})" if details else ""))
    return 0


def _settings(args: argparse.Namespace) -> Settings:
    """The environment's settings with the store the flags name."""
    base = Settings.from_env()
    if args.data_dir is not None:
        if not args.data_dir.is_dir():
            raise UsageError(f"{args.data_dir}: no such directory")
        return replace(base, store="local", data_dir=str(args.data_dir))
    return replace(base, store="s3", bucket=args.bucket, prefix=args.prefix)


def _where(args: argparse.Namespace) -> str:
    return str(args.data_dir) if args.data_dir is not None else f"s3://{args.bucket}/{args.prefix}"
