"""Deleting a deleted stream's media: the purge record DeleteStream leaves, and the batched deletes that finish it.

DeleteStream writes ``purge/<media id>`` before it removes the record, so media it cannot delete within its budget
is still found afterwards: by later deletes, ``stillframe reindex --all`` and, on AWS, the delivery function's
hourly run. The purge record goes last, once nothing is left under the media prefix.
"""

from __future__ import annotations

import contextlib
import time

from stillframe.catalog import keys
from stillframe.errors import StoreFullError
from stillframe.storage import delete_objects
from stillframe.storage.port import ObjectStore

PURGE_BATCH = 1000  # S3 DeleteObjects takes at most 1000 keys


def remember_purge(store: ObjectStore, media_id: str) -> None:
    """Write the purge record of a stream being deleted (on a full store, after freeing a batch of its media)."""
    try:
        store.put(keys.purge_key(media_id), b"")
    except StoreFullError:
        # A full store cannot take even the purge record: free a batch of this stream's media first.
        delete_objects(store, [info.key for info in store.list(keys.media_prefix(media_id), limit=PURGE_BATCH)])
        with contextlib.suppress(StoreFullError):
            store.put(keys.purge_key(media_id), b"")


def purge_media(store: ObjectStore, media_id: str, *, deadline: float | None = None) -> bool:
    """Delete a deleted stream's media in batches until done (then its purge record) or past ``deadline``."""
    prefix = keys.media_prefix(media_id)
    while deadline is None or time.monotonic() < deadline:
        batch = [info.key for info in store.list(prefix, limit=PURGE_BATCH)]
        if not batch:
            store.delete(keys.purge_key(media_id))
            return True
        delete_objects(store, batch)
    return False


def purge_deleted(store: ObjectStore, *, deadline: float | None = None) -> int:
    """Finish the media deletion of streams deleted earlier; returns how many were finished."""
    finished = 0
    for info in store.list(keys.PURGE_PREFIX):
        if deadline is not None and time.monotonic() >= deadline:
            break
        finished += purge_media(store, info.key[len(keys.PURGE_PREFIX) :], deadline=deadline)
    return finished
