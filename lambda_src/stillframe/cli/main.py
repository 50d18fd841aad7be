"""The ``stillframe`` command: ``serve``, ``put-media``, ``get-images``, ``get-clip``, ``list-fragments``,
``timeline``, ``reindex`` and ``keys``.

Errors a user can cause end as one line on stderr (exit status 2 for bad input, 1 when the work failed),
never as a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from stillframe import __version__
from stillframe.cli import get_clip, get_images, keys, put_media, reindex, serve, timeline
from stillframe.cli.errors import CommandFailed, UsageError
from stillframe.cli.logs import configure_logging


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="stillframe",
        description="Frame-accurate Kinesis Video Streams GetImages for video on disk or in S3.",
    )
    parser.add_argument("--version", action="version", version=f"stillframe {__version__}")
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="detail of the stderr log (default: %(default)s)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve.register(commands)
    put_media.register(commands)
    get_images.register(commands)
    get_clip.register(commands)
    timeline.register(commands)
    reindex.register(commands)
    keys.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the process exit status."""
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level)
    try:
        return int(args.run(args))
    except (UsageError, CommandFailed) as exc:
        print(f"stillframe {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print(f"stillframe {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
