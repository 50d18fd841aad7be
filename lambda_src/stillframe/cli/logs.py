"""Log output for the CLI: plain ``time message key=value ...`` lines on stderr.

Stillframe's own CLI-side loggers get a private handler and do not propagate, so the handler's Powertools logger
(which may own the ``stillframe`` logger name) never prints them a second time as JSON.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

CLI_LOGGERS = (
    "stillframe.server",
    "stillframe.cli",
    "stillframe.uploader",
    "stillframe.client",
    "stillframe.delivery",
)
_RECORD_FIELDS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class KeyValueFormatter(logging.Formatter):
    """``HH:MM:SS LEVEL message key=value ...`` with the record's ``extra`` fields in the order given."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        """Render the base line, then every extra field as key=value."""
        line = super().format(record)
        extras = " ".join(f"{key}={value}" for key, value in vars(record).items() if key not in _RECORD_FIELDS)
        if not extras:
            return line
        head, sep, tail = line.partition("\n")  # keep any traceback after the key=value pairs
        return f"{head} {extras}{sep}{tail}"


def configure_logging(level: str = "INFO", stream: TextIO | None = None) -> None:
    """Send CLI-side log records at ``level`` (and other libraries' warnings) to ``stream`` (default stderr)."""
    for name in CLI_LOGGERS:
        cli_logger = logging.getLogger(name)
        cli_logger.handlers[:] = [_handler(stream)]
        cli_logger.setLevel(level)
        cli_logger.propagate = False
    root = logging.getLogger()
    if not root.handlers:
        # A handler of its own: Powertools filters every root handler to drop records named after its service.
        root.addHandler(_handler(stream))
        root.setLevel(logging.WARNING)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record is emitted, not the one at configuration time: a
    server thread may log after the stream it was configured with is gone (pytest's capture of an earlier test)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass  # StreamHandler's constructor assigns one; stderr is looked up on every emit instead


def _handler(stream: TextIO | None) -> logging.Handler:
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(KeyValueFormatter())
    return handler
