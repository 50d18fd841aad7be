"""The local store's temp files: where a write is made durable before it gets its key's name, and the sweep of
those a killed writer left.

A temp file lives in ``<root>/tmp/`` (the objects' filesystem, so installing it is an atomic rename or link) and is
named after its writer's pid (``w-<pid>-...``). Opening the store removes those whose writer is no longer running,
and any older than a day.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
from pathlib import Path

logger = logging.getLogger("stillframe.storage.local")  # the store's own logger: its lines keep their name

STALE_TEMP_SECONDS = 24 * 3600  # temp files this old were left by a killed writer
_TEMP_PREFIX = "w-"


def write_temp(directory: Path, data: bytes) -> str:
    """A new temp file in ``directory`` holding ``data``, fsynced; its path."""
    fd, tmp = tempfile.mkstemp(prefix=f"{_TEMP_PREFIX}{os.getpid()}-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # the data is on disk before the name points at it
    except BaseException:
        unlink_quietly(tmp)
        raise
    return tmp


def sweep_stale_temps(directory: Path, root: Path) -> None:
    """Remove temp files of writers that are gone (killed mid-write), and any older than a day."""
    cutoff = time.time() - STALE_TEMP_SECONDS
    removed = 0
    for entry in os.scandir(directory):
        try:
            if not _writer_alive(entry.name) or entry.stat().st_mtime < cutoff:
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue  # another process removed or finished it
    if removed:
        logger.info("removed stale temp files", extra={"root": str(root), "count": removed})


def unlink_quietly(path: str) -> None:
    """Remove a file that may be gone already."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _writer_alive(temp_name: str) -> bool:
    """Whether the process that named this temp file may still be writing it (unknown names: assume so)."""
    pid_text = temp_name[len(_TEMP_PREFIX) :].split("-", 1)[0]
    if not temp_name.startswith(_TEMP_PREFIX) or not pid_text.isdigit():
        return True
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists but belongs to someone else
    return True
