"""``stillframe reindex``: rebuild a stream's index markers from its stored fragments (after a crash or a copy).

The catalog owns the work (``FragmentIndex.reindex``); this is only the command around it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from stillframe.catalog.fragments import FragmentIndex
from stillframe.catalog.streams import StreamCatalog
from stillframe.cli.errors import CommandFailed, UsageError
from stillframe.settings import Settings
from stillframe.storage import open_store


def register(subparsers: Any) -> None:
    """Add the ``reindex`` subcommand."""
    parser = subparsers.add_parser(
        "reindex",
        help="rebuild a stream's fragment index from its stored fragments",
        description="Rebuild the index markers of STREAM from the fragments stored under --data-dir.",
    )
    parser.add_argument(
        "--data-dir", required=True, type=Path, metavar="DIR", help="the directory `stillframe serve` uses"
    )
    parser.add_argument("--stream", required=True, metavar="NAME", help="stream name")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Open the local store and run the catalog's reindex on the stream."""
    if not args.data_dir.is_dir():
        raise UsageError(f"{args.data_dir}: no such directory")
    store = open_store(Settings(store="local", data_dir=str(args.data_dir)))
    record = StreamCatalog(store, region="us-east-1", account_id="000000000000").load(args.stream)
    if record is None:
        raise CommandFailed(f"stream {args.stream} does not exist in {args.data_dir}")
    count = FragmentIndex(store).reindex(record.media_id)
    print(f"reindexed stream {args.stream}: {count} fragments")
    return 0
