"""ObjectStore over a local directory: the embedded default, with S3's semantics.

Layout under the root:

    <root>/objects/<seg>/<seg>/...   one file per object; key segments are directories
    <root>/tmp/                      writes in progress (same filesystem, so renames are atomic)

Writes go to a temp file, are fsynced, then installed with ``os.replace`` (put) or
``os.link`` (create-if-absent: the link fails if the target exists). A reader opens
either the old file or the new one, never half of one, even if a writer is killed.
Opening the store removes the temp files a killed writer left (``local_temps``).

A full disk (ENOSPC, EDQUOT) raises ``StoreFullError`` and a read-only file system (EROFS)
``StoreReadOnlyError``, so the API answers them clearly instead of as an unexpected failure.
Deletes need no free space, so space can always be freed.

Key segments become file names as ``local_segments`` says (percent-encoded where the filesystem would misread
them, over-long ones cut into pieces); ``list`` walks the tree as ``local_listing`` says; temp files and their
sweep are ``local_temps``.

Limits (``ValueError``): a key cannot be both an object and a "directory" (key "a"
while "a/b" exists, or the reverse), which S3 allows but a filesystem cannot.
Stillframe's own key layout never does this. Directories emptied by deletes are
pruned, so a deleted "a/b" does not block "a".
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import itertools
import os
import stat
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from stillframe.errors import (
    ObjectChanged,
    ObjectExists,
    ObjectNotFound,
    StorageError,
    StoreFullError,
    StoreReadOnlyError,
)
from stillframe.storage.key_rules import validate_key
from stillframe.storage.local_listing import MISSING, file_tag, walk
from stillframe.storage.local_segments import encode_segment, segment_names
from stillframe.storage.local_temps import sweep_stale_temps, unlink_quietly, write_temp
from stillframe.storage.port import ObjectInfo

# bench/fixtures.py names files as the store does through ``stillframe.storage.local.encode_segment``.
__all__ = ["LocalDirectoryStore", "encode_segment"]

_INSTALL_ATTEMPTS = 8  # a concurrent delete may prune the parent directory between mkdir and rename
_FULL = (errno.ENOSPC, errno.EDQUOT)


class LocalDirectoryStore:
    """ObjectStore over a directory tree; safe for concurrent threads and processes on one machine."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self._objects = self.root / "objects"
        self._tmp = self.root / "tmp"
        self._locks = self.root / "locks"  # not under tmp/: the temp sweep must never remove a held lock file
        self._objects.mkdir(parents=True, exist_ok=True)
        self._tmp.mkdir(parents=True, exist_ok=True)
        self._locks.mkdir(parents=True, exist_ok=True)
        # Serializes "make the parent directory, then name the file" against pruning emptied directories, so
        # threads of one process never race; other processes are covered by the retry in _install.
        self._dirs = threading.Lock()
        sweep_stale_temps(self._tmp, self.root)

    # -- writes -------------------------------------------------------------------------------

    def put(self, key: str, data: bytes) -> None:
        """Write the whole object atomically, replacing any previous one."""
        target = self._path(key)
        with _translated_os_errors(key):
            tmp = write_temp(self._tmp, data)
            try:
                self._install(key, tmp, target, link=False)
            except BaseException:
                unlink_quietly(tmp)
                raise

    def create(self, key: str, data: bytes) -> None:
        """Write the object only if the key is absent; raise ``ObjectExists`` otherwise."""
        target = self._path(key)
        with _translated_os_errors(key):
            tmp = write_temp(self._tmp, data)
            try:
                self._install(key, tmp, target, link=True)
            finally:
                unlink_quietly(tmp)  # after a link the object keeps its own name; the temp name goes

    def replace(self, key: str, data: bytes, tag: str) -> None:
        """Write the object only if it is still the version ``tag`` names; ``ObjectChanged`` otherwise.

        Conditional writers of one key take its lock file (``flock``: threads and processes alike), so the
        check and the rename are one step for them.
        """
        target = self._path(key)
        with _translated_os_errors(key):
            tmp = write_temp(self._tmp, data)
            try:
                with self._key_lock(key):
                    try:
                        current = file_tag(os.stat(target))
                    except FileNotFoundError:
                        current = ""
                    if current != tag:
                        raise ObjectChanged(key)
                    self._install(key, tmp, target, link=False)
            finally:
                unlink_quietly(tmp)  # gone already after the rename; there after a refusal

    def delete(self, key: str) -> None:
        """Remove the object; deleting an absent key is not an error (as in S3)."""
        target = self._path(key)
        with _translated_os_errors(key):
            try:
                os.unlink(target)
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError):
                # PermissionError: Linux answers EPERM when unlinking a directory (key "a" while "a/b" exists).
                if not target.is_file():
                    return
                raise
            self._prune(target.parent)

    def delete_many(self, keys: Sequence[str]) -> None:
        """Remove the objects; absent keys are not errors."""
        for key in keys:
            self.delete(key)

    # -- reads --------------------------------------------------------------------------------

    def get(self, key: str) -> bytes:
        """Read the whole object; raise ``ObjectNotFound`` if absent."""
        with self._open(key) as f:
            return f.read()

    def get_tagged(self, key: str) -> tuple[bytes, str]:
        """Read the whole object and its tag (of the very file read); raise ``ObjectNotFound`` if absent."""
        with self._open(key) as f:
            return f.read(), file_tag(os.fstat(f.fileno()))

    def get_range(self, key: str, start: int, end: int) -> bytes:
        """Read bytes ``start..end`` inclusive, clipped at the object's end (empty past it)."""
        if start < 0 or end < start:
            raise ValueError(f"byte range {start}-{end} is invalid; need 0 <= start <= end")
        with self._open(key) as f:
            f.seek(start)
            return f.read(end - start + 1)

    def head(self, key: str) -> ObjectInfo:
        """Size of the object; raise ``ObjectNotFound`` if absent."""
        try:
            st = os.stat(self._path(key))
        except OSError as exc:
            if exc.errno in MISSING:
                raise ObjectNotFound(key) from exc
            raise
        if not stat.S_ISREG(st.st_mode):
            raise ObjectNotFound(key)
        return ObjectInfo(key=key, size=st.st_size)

    def list(self, prefix: str, start_after: str = "", limit: int | None = None) -> Iterator[ObjectInfo]:
        """Objects whose key starts with ``prefix``, after ``start_after``, in UTF-8 byte order.

        Only the subtree under the prefix's deepest whole directory is read, one directory at a
        time and lazily, so a small ``limit`` near ``start_after`` stays cheap in large directories.
        """
        *dir_parts, partial = prefix.split("/")
        if "" in dir_parts:
            return iter(())  # no valid key contains an empty segment
        base = self._objects.joinpath(*(name for part in dir_parts for name in segment_names(part)))
        objects = walk(base, "".join(p + "/" for p in dir_parts), partial, start_after)
        return objects if limit is None else itertools.islice(objects, max(limit, 0))

    # -- internals ----------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        validate_key(key)
        return self._objects.joinpath(*(name for segment in key.split("/") for name in segment_names(segment)))

    def _open(self, key: str) -> BinaryIO:
        path = self._path(key)
        try:
            return open(path, "rb")  # the caller closes it with `with`
        except IsADirectoryError as exc:
            raise ObjectNotFound(key) from exc
        except OSError as exc:
            if exc.errno in MISSING:
                raise ObjectNotFound(key) from exc
            raise

    @contextlib.contextmanager
    def _key_lock(self, key: str) -> Iterator[None]:
        name = hashlib.sha256(key.encode()).hexdigest()[:32]
        fd = os.open(self._locks / name, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _install(self, key: str, tmp: str, target: Path, *, link: bool) -> None:
        """Give the finished temp file its key's name (replace, or link if absent)."""
        for _ in range(_INSTALL_ATTEMPTS):
            try:
                with self._dirs:
                    self._make_parent(key, target)
                    if link:
                        os.link(tmp, target)
                    else:
                        os.replace(tmp, target)
                return
            except FileNotFoundError:
                continue  # a concurrent delete pruned a parent directory; make it again
            except (FileExistsError, IsADirectoryError):
                if not target.is_dir():
                    raise ObjectExists(key) from None
                if not _remove_empty_tree(target):
                    raise ValueError(
                        f"object key {key!r} cannot be stored: keys starting with {key + '/'!r} exist "
                        "(the local store cannot hold a key that is also a prefix directory)"
                    ) from None
        raise StorageError(f"could not write {key!r}: its directory kept disappearing under concurrent deletes")

    def _make_parent(self, key: str, target: Path) -> None:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise ValueError(
                f"object key {key!r} cannot be stored: a shorter key that is a prefix of it exists as an object "
                "(the local store cannot hold a key that is also a prefix directory)"
            ) from exc

    def _prune(self, directory: Path) -> None:
        """Remove directories emptied by a delete, up to (not including) the objects root."""
        with self._dirs:
            while directory != self._objects and self._objects in directory.parents:
                try:
                    directory.rmdir()
                except OSError:
                    return  # not empty (or already gone): stop
                directory = directory.parent


def _remove_empty_tree(path: Path) -> bool:
    """Remove a directory tree that holds no files (left behind by deletes); False if it holds any."""
    for dirpath, _dirnames, filenames in os.walk(path, topdown=False):
        if filenames:
            return False
        try:
            os.rmdir(dirpath)
        except OSError:
            return False
    return True


@contextlib.contextmanager
def _translated_os_errors(key: str) -> Iterator[None]:
    """Turn "no space" and "read-only" into the store's own errors; everything else passes through."""
    try:
        yield
    except OSError as exc:
        if exc.errno in _FULL:
            raise StoreFullError(f"The store has no space left to write {key}; delete streams to free space.") from exc
        if exc.errno == errno.EROFS:
            raise StoreReadOnlyError(f"The store is read-only; {key} cannot be written.") from exc
        raise
