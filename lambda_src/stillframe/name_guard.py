"""Keys the local-directory store cannot hold, answered as S3 would answer for keys that do not exist.

The local store keeps each key segment as one file name (at most 255 bytes), so a stream name of 251-256
characters, valid per the model, makes ``streams/<name>.json`` too long for it. Without this guard that is an
unexpected ValueError, a 500. With it: reads find nothing (404 ResourceNotFoundException, as for any unknown
stream), deletes do nothing, and creating such a stream is refused with a 400 that says to use S3 (``--bucket``).
"""

from __future__ import annotations

from collections.abc import Iterator

from stillframe.errors import InvalidArgumentError, ObjectNotFound
from stillframe.storage.local import MAX_SEGMENT_BYTES, LocalDirectoryStore, encode_segment
from stillframe.storage.port import ObjectInfo, ObjectStore


def fits(key: str) -> bool:
    """True when every segment of ``key`` fits in one file name of the local store."""
    return all(
        len(encode_segment(segment).encode("utf-8", "surrogatepass")) <= MAX_SEGMENT_BYTES for segment in key.split("/")
    )


class NameGuard:
    """An ``ObjectStore`` over a local store that treats keys it cannot hold as absent (writes are refused)."""

    def __init__(self, store: ObjectStore) -> None:
        self._store = store

    def put(self, key: str, data: bytes) -> None:
        self._writable(key)
        self._store.put(key, data)

    def create(self, key: str, data: bytes) -> None:
        self._writable(key)
        self._store.create(key, data)

    def get(self, key: str) -> bytes:
        return self._store.get(self._readable(key))

    def get_range(self, key: str, start: int, end: int) -> bytes:
        return self._store.get_range(self._readable(key), start, end)

    def head(self, key: str) -> ObjectInfo:
        return self._store.head(self._readable(key))

    def list(self, prefix: str, start_after: str = "", limit: int | None = None) -> Iterator[ObjectInfo]:
        if not fits(prefix):
            return iter(())  # no key the store holds starts with it
        return self._store.list(prefix, start_after, limit)

    def delete(self, key: str) -> None:
        if fits(key):
            self._store.delete(key)

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)  # adapter extras (sweeps, roots) stay reachable

    @staticmethod
    def _readable(key: str) -> str:
        if not fits(key):
            raise ObjectNotFound(key)
        return key

    @staticmethod
    def _writable(key: str) -> None:
        if not fits(key):
            raise InvalidArgumentError(
                "This server's local directory store keeps names of up to 250 characters; "
                "serve from an S3 bucket (--bucket) for longer stream names."
            )


def guard_local(store: ObjectStore) -> ObjectStore:
    """``store`` behind a ``NameGuard`` if it is the local-directory store; other stores hold any valid key."""
    return NameGuard(store) if isinstance(store, LocalDirectoryStore) else store
