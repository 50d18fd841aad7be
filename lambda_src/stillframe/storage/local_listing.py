"""The local store's listing: a lazy walk of the objects directory in UTF-8 byte order of the keys.

Only the subtree a prefix names is read, one directory at a time, and subtrees wholly before ``start_after`` are
skipped, so a small page near a cursor stays cheap in large directories. A directory holding the rest of an
over-long segment (``local_segments``) is read as part of its parent. Each object is listed with a tag that changes
with every write (``file_tag``).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path

from stillframe.storage.local_segments import CONTINUED, decode_segment
from stillframe.storage.port import ObjectInfo

MISSING = (errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG)


def file_tag(st: os.stat_result) -> str:
    """A listing tag: every write installs a new file (a rename or link of a fresh temp file), so a new inode."""
    return f"{st.st_ino:x}.{st.st_mtime_ns:x}.{st.st_size:x}"


def walk(directory: Path, key_base: str, name_prefix: str, start_after: str) -> Iterator[ObjectInfo]:
    """Objects under ``directory`` (keys ``key_base`` + name) whose name starts with ``name_prefix``, after
    ``start_after``, in key order."""
    for name, entry_path, is_dir in _sorted_entries(directory, name_prefix):
        key = key_base + name
        if is_dir:
            group = key + "/"
            # Every key below starts with `group`: skip the subtree when all of it is <= start_after.
            if start_after < group or start_after.startswith(group):
                yield from walk(entry_path, group, "", start_after)
        elif key > start_after:
            try:
                st = os.stat(entry_path)
            except FileNotFoundError:
                continue  # deleted since the directory was read
            yield ObjectInfo(key=key, size=st.st_size, tag=file_tag(st))


def _sorted_entries(directory: Path, name_prefix: str) -> list[tuple[str, Path, bool]]:
    """One directory's entries as (key segment, path, is_dir), in UTF-8 byte order of the keys they hold.

    A directory sorts as "<name>/" because every key inside it starts so: "a.b" < "a/b" < "a0".
    (Python's str order is code point order, which equals UTF-8 byte order.)
    """
    try:
        scan = list(os.scandir(directory))
    except OSError as exc:
        if exc.errno in MISSING:
            return []  # no object under this prefix (or pruned while we looked)
        raise
    entries: list[tuple[str, str, Path, bool]] = []
    for entry in scan:
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            continue
        if is_dir and entry.name.endswith(CONTINUED):
            entries.extend(_continued_entries(entry.path, decode_segment(entry.name[: -len(CONTINUED)]), name_prefix))
            continue
        name = decode_segment(entry.name)
        if name.startswith(name_prefix):
            entries.append((name + "/" if is_dir else name, name, Path(entry.path), is_dir))
    entries.sort(key=lambda e: e[0])
    return [(name, path, is_dir) for _, name, path, is_dir in entries]


def _continued_entries(path: str, piece: str, name_prefix: str) -> list[tuple[str, str, Path, bool]]:
    """The entries of an over-long segment's piece directory, named as whole segments (``piece`` + the rest)."""
    if not (piece.startswith(name_prefix) or name_prefix.startswith(piece)):
        return []
    rest = name_prefix[len(piece) :] if name_prefix.startswith(piece) else ""
    return [
        (piece + name + ("/" if is_dir else ""), piece + name, entry_path, is_dir)
        for name, entry_path, is_dir in _sorted_entries(Path(path), rest)
    ]
