"""Errors a CLI command reports as one line on stderr, with the exit status they map to."""

from __future__ import annotations


class UsageError(Exception):
    """Something the user gave is wrong (missing file, bad URL, junk timestamp): exit status 2."""

    exit_status = 2


class CommandFailed(Exception):
    """The command could not do its job (server down, stream unknown, upload refused): exit status 1."""

    exit_status = 1
