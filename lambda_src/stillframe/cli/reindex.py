"""``stillframe reindex``: rebuild a stream's index markers from its stored fragments (after a crash or a copy).

The catalog owns the work (``stillframe.catalog.reindex(store, stream)``); this is only the command around it.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from typing import Any

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
    # Hook: looked up at run time so this command works as soon as the catalog provides it.
    reindex = getattr(importlib.import_module("stillframe.catalog"), "reindex", None)
    if reindex is None:
        raise CommandFailed("reindex is not available in this build (stillframe.catalog.reindex is missing)")
    store = open_store(Settings(store="local", data_dir=str(args.data_dir)))
    result = reindex(store, args.stream)
    print(f"reindexed stream {args.stream}" + ("" if result is None else f": {result}"))
    return 0
