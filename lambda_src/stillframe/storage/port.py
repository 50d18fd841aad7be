"""The ObjectStore port: the only way Stillframe touches state.

Semantics follow S3 so that the local-directory adapter and the S3 adapter are
interchangeable: whole-object atomic writes, keys listed in UTF-8 byte order,
``start_after`` exclusive, ranged reads with inclusive byte offsets.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from stillframe.errors import ObjectChanged, ObjectExists, ObjectNotFound

__all__ = ["ObjectChanged", "ObjectExists", "ObjectInfo", "ObjectNotFound", "ObjectStore"]


@dataclass(frozen=True)
class ObjectInfo:
    """What a listing or head returns about one object."""

    key: str
    size: int
    # Changes whenever the object is written again (S3: the ETag; local: inode, mtime and size); "" when unknown.
    # A listing's tags tell a reader which of its cached copies are still current without reading the objects.
    tag: str = field(default="", compare=False)


class ObjectStore(Protocol):
    """Key/value blob storage with S3 semantics."""

    def put(self, key: str, data: bytes) -> None:
        """Write the whole object atomically, replacing any previous one."""

    def create(self, key: str, data: bytes) -> None:
        """Write the object only if the key is absent; raise ``ObjectExists`` otherwise."""

    def replace(self, key: str, data: bytes, tag: str) -> None:
        """Write the object only if it is still the version ``tag`` names (from ``get_tagged`` or a listing);
        raise ``ObjectChanged`` if it was written again or deleted since."""

    def get(self, key: str) -> bytes:
        """Read the whole object; raise ``ObjectNotFound`` if absent."""

    def get_tagged(self, key: str) -> tuple[bytes, str]:
        """Read the whole object and its tag (``ObjectInfo.tag``); raise ``ObjectNotFound`` if absent."""

    def get_range(self, key: str, start: int, end: int) -> bytes:
        """Read bytes ``start..end`` inclusive (clipped at the object's end); ``ObjectNotFound`` if absent."""

    def head(self, key: str) -> ObjectInfo:
        """Size of the object; raise ``ObjectNotFound`` if absent."""

    def list(self, prefix: str, start_after: str = "", limit: int | None = None) -> Iterator[ObjectInfo]:
        """Objects whose key starts with ``prefix``, after ``start_after``, in UTF-8 byte order."""

    def delete(self, key: str) -> None:
        """Remove the object; deleting an absent key is not an error (as in S3)."""
