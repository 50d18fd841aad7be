"""Object storage: the port, the rules every key follows (``key_rules``), and the factory that picks an adapter.

Two adapters implement ``ObjectStore`` and pass the same contract tests:
``stillframe.storage.local.LocalDirectoryStore`` (embedded default) and
``stillframe.storage.s3.S3Store`` (AWS and LocalStack). The S3 adapter is imported
only when settings ask for it, so the local mode never imports boto3.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from stillframe.storage.key_rules import MAX_KEY_BYTES, validate_key
from stillframe.storage.port import ObjectInfo, ObjectStore

if TYPE_CHECKING:
    from stillframe.settings import Settings

__all__ = ["MAX_KEY_BYTES", "ObjectInfo", "ObjectStore", "delete_objects", "open_store", "validate_key"]


def delete_objects(store: ObjectStore, keys: Sequence[str]) -> None:
    """Remove the objects (absent keys are not errors) in as few requests as the adapter allows.

    Adapters may offer ``delete_many(keys)`` (S3: DeleteObjects, 1000 keys a request); wrappers that forward
    unknown attributes pass it through. Any other store deletes one key at a time.
    """
    delete_many = getattr(store, "delete_many", None)
    if delete_many is not None:
        delete_many(keys)
        return
    for key in keys:
        store.delete(key)


def open_store(settings: Settings) -> ObjectStore:
    """Build the ObjectStore named by ``settings.store``: "local" (``data_dir``) or "s3" (``bucket``, ``prefix``)."""
    if settings.store == "local":
        from stillframe.storage.local import LocalDirectoryStore

        return LocalDirectoryStore(settings.data_dir)
    if settings.store == "s3":
        from stillframe.storage.s3 import S3Store  # boto3 is imported only here

        return S3Store(settings.bucket, settings.prefix)
    raise ValueError(f"unknown store {settings.store!r}; expected 'local' or 's3'")
