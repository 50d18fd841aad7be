"""ObjectStore over a local directory: the embedded default, with S3's semantics.

Layout under the root:

    <root>/objects/<seg>/<seg>/...   one file per object; key segments are directories
    <root>/tmp/                      writes in progress (same filesystem, so renames are atomic)

Writes go to a temp file, are fsynced, then installed with ``os.replace`` (put) or
``os.link`` (create-if-absent: the link fails if the target exists). A reader opens
either the old file or the new one, never half of one, even if a writer is killed.
A temp file is named after its writer's pid (``w-<pid>-...``); opening the store removes
those whose writer is no longer running (a killed writer's leftovers), and any older than a day.

A full disk (ENOSPC, EDQUOT) raises ``StoreFullError`` and a read-only file system (EROFS)
``StoreReadOnlyError``, so the API answers them clearly instead of as an unexpected failure.
Deletes need no free space, so space can always be freed.

Segments are stored percent-encoded where the filesystem would misread them:
"%" -> "%25", NUL -> "%00", and a whole segment "." or ".." -> "%2E" / "%2E%2E".
A segment longer than a file name (255 bytes once encoded, e.g. a 256-character stream
name) is cut into pieces of at most 253 bytes: every piece but the last is a directory
named ``<piece>%+`` (no encoded name ends so), the last piece is the file or directory
itself. Listings read such a directory as part of its parent, so key order is kept.

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
import logging
import os
import re
import stat
import tempfile
import threading
import time
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
from stillframe.storage import validate_key
from stillframe.storage.port import ObjectInfo

logger = logging.getLogger(__name__)

MAX_SEGMENT_BYTES = 255  # NAME_MAX on Linux and macOS filesystems
_CONTINUED = "%+"  # suffix of a directory holding the rest of an over-long segment (never made by encode_segment)
_PIECE_BYTES = MAX_SEGMENT_BYTES - len(_CONTINUED)
_INSTALL_ATTEMPTS = 8  # a concurrent delete may prune the parent directory between mkdir and rename
_STALE_TEMP_SECONDS = 24 * 3600  # temp files this old were left by a killed writer
_DECODE = {"25": "%", "00": "\0", "2E": "."}
_ESCAPE = re.compile(r"%(25|00|2E)")
_MISSING = (errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG)
_FULL = (errno.ENOSPC, errno.EDQUOT)
_TEMP_PREFIX = "w-"


def encode_segment(segment: str) -> str:
    """File name for one key segment (reversible; see the module docstring)."""
    if segment in (".", ".."):
        return "%2E" * len(segment)
    return segment.replace("%", "%25").replace("\0", "%00")


def decode_segment(name: str) -> str:
    """Key segment for one file name written by ``encode_segment``."""
    return _ESCAPE.sub(lambda m: _DECODE[m.group(1)], name) if "%" in name else name


def segment_names(segment: str) -> list[str]:
    """The path components holding one key segment: one file name, or pieces when it is longer than one."""
    name = encode_segment(segment)
    if len(name.encode("utf-8")) <= MAX_SEGMENT_BYTES:
        return [name]
    names, piece, size = [], "", 0
    for char in segment:  # cut between characters, never inside an escape or a UTF-8 sequence
        encoded = encode_segment(char) if char in "%\0" else char
        width = len(encoded.encode("utf-8"))
        if size + width > _PIECE_BYTES:
            names.append(piece + _CONTINUED)
            piece, size = "", 0
        piece, size = piece + encoded, size + width
    return [*names, encode_segment(piece) if piece in (".", "..") else piece]


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
        self._sweep_stale_temps()

    # -- writes -------------------------------------------------------------------------------

    def put(self, key: str, data: bytes) -> None:
        """Write the whole object atomically, replacing any previous one."""
        target = self._path(key)
        with _translated_os_errors(key):
            tmp = self._write_temp(data)
            try:
                self._install(key, tmp, target, link=False)
            except BaseException:
                _unlink_quietly(tmp)
                raise

    def create(self, key: str, data: bytes) -> None:
        """Write the object only if the key is absent; raise ``ObjectExists`` otherwise."""
        target = self._path(key)
        with _translated_os_errors(key):
            tmp = self._write_temp(data)
            try:
                self._install(key, tmp, target, link=True)
            finally:
                _unlink_quietly(tmp)  # after a link the object keeps its own name; the temp name goes

    def replace(self, key: str, data: bytes, tag: str) -> None:
        """Write the object only if it is still the version ``tag`` names; ``ObjectChanged`` otherwise.

        Conditional writers of one key take its lock file (``flock``: threads and processes alike), so the
        check and the rename are one step for them.
        """
        target = self._path(key)
        with _translated_os_errors(key):
            tmp = self._write_temp(data)
            try:
                with self._key_lock(key):
                    try:
                        current = _tag(os.stat(target))
                    except FileNotFoundError:
                        current = ""
                    if current != tag:
                        raise ObjectChanged(key)
                    self._install(key, tmp, target, link=False)
            finally:
                _unlink_quietly(tmp)  # gone already after the rename; there after a refusal

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
            return f.read(), _tag(os.fstat(f.fileno()))

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
            if exc.errno in _MISSING:
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
        walk = self._walk(base, "".join(p + "/" for p in dir_parts), partial, start_after)
        return walk if limit is None else itertools.islice(walk, max(limit, 0))

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
            if exc.errno in _MISSING:
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

    def _write_temp(self, data: bytes) -> str:
        fd, tmp = tempfile.mkstemp(prefix=f"{_TEMP_PREFIX}{os.getpid()}-", dir=self._tmp)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())  # the data is on disk before the name points at it
        except BaseException:
            _unlink_quietly(tmp)
            raise
        return tmp

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

    def _walk(self, directory: Path, key_base: str, name_prefix: str, start_after: str) -> Iterator[ObjectInfo]:
        for name, entry_path, is_dir in _sorted_entries(directory, name_prefix):
            key = key_base + name
            if is_dir:
                group = key + "/"
                # Every key below starts with `group`: skip the subtree when all of it is <= start_after.
                if start_after < group or start_after.startswith(group):
                    yield from self._walk(entry_path, group, "", start_after)
            elif key > start_after:
                try:
                    st = os.stat(entry_path)
                except FileNotFoundError:
                    continue  # deleted since the directory was read
                yield ObjectInfo(key=key, size=st.st_size, tag=_tag(st))

    def _sweep_stale_temps(self) -> None:
        """Remove temp files of writers that are gone (killed mid-write), and any older than a day."""
        cutoff = time.time() - _STALE_TEMP_SECONDS
        removed = 0
        for entry in os.scandir(self._tmp):
            try:
                if not _writer_alive(entry.name) or entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except OSError:
                continue  # another process removed or finished it
        if removed:
            logger.info("removed stale temp files", extra={"root": str(self.root), "count": removed})


def _tag(st: os.stat_result) -> str:
    """A listing tag: every write installs a new file (a rename or link of a fresh temp file), so a new inode."""
    return f"{st.st_ino:x}.{st.st_mtime_ns:x}.{st.st_size:x}"


def _sorted_entries(directory: Path, name_prefix: str) -> list[tuple[str, Path, bool]]:
    """One directory's entries as (key segment, path, is_dir), in UTF-8 byte order of the keys they hold.

    A directory sorts as "<name>/" because every key inside it starts so: "a.b" < "a/b" < "a0".
    (Python's str order is code point order, which equals UTF-8 byte order.)
    """
    try:
        scan = list(os.scandir(directory))
    except OSError as exc:
        if exc.errno in _MISSING:
            return []  # no object under this prefix (or pruned while we looked)
        raise
    entries: list[tuple[str, str, Path, bool]] = []
    for entry in scan:
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            continue
        if is_dir and entry.name.endswith(_CONTINUED):
            entries.extend(_continued_entries(entry.path, decode_segment(entry.name[: -len(_CONTINUED)]), name_prefix))
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


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
