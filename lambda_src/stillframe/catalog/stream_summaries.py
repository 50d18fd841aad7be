"""ListStreams' cache of stream records, checked against the listing's tags so that it never answers a stale record.

Listing the record keys costs one LIST per 1,000 streams; reading each record is one GET per stream (10,000 streams:
about a minute on LocalStack here, seconds on S3). The catalog keeps the records it has read, each with the listing
tag it was current at (S3: the ETag), in memory for the process and in one object
(``catalog.keys.STREAM_SUMMARIES_KEY``) for the next cold one. A cached record is used only while the listing shows
that same tag: any write of the record changes its tag, and it is read again. The cache holds no truth of its own:
losing it, or two processes overwriting each other's copy, costs reads, never a wrong answer.

A record is written with a fresh random Version on every change, so its bytes (and so its ETag) never repeat.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from typing import Any

from stillframe.catalog.keys import STREAM_SUMMARIES_KEY
from stillframe.errors import ObjectNotFound, StoreFullError
from stillframe.storage.port import ObjectStore

logger = logging.getLogger(__name__)

FORMAT = 1


class StreamSummaries:
    """Record key -> (listing tag, record JSON object), in memory and, on ``save``, in the store."""

    def __init__(self, store: ObjectStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[str, dict[str, Any]]] = {}
        self._loaded = False

    def get(self, key: str, tag: str) -> dict[str, Any] | None:
        """The cached record of ``key`` if it was read at exactly this listing tag."""
        if not tag:
            return None
        with self._lock:
            entry = self._entries.get(key)
        return entry[1] if entry is not None and entry[0] == tag else None

    def put(self, key: str, tag: str, record: dict[str, Any]) -> None:
        if tag:
            with self._lock:
                self._entries[key] = (tag, record)

    def load(self) -> None:
        """Merge in the persisted copy, once per process (entries read since are newer and kept)."""
        with self._lock:
            if self._loaded:
                return
            self._loaded = True
        try:
            stored = json.loads(self._store.get(STREAM_SUMMARIES_KEY))
            entries = stored["records"] if stored.get("format") == FORMAT else {}
        except ObjectNotFound:
            return
        except (ValueError, KeyError, TypeError, AttributeError) as exc:  # a damaged cache is only a slower listing
            logger.warning("stream summaries unreadable, ignored", extra={"error": str(exc)})
            return
        with self._lock:
            for key, (tag, record) in entries.items():
                self._entries.setdefault(key, (tag, record))

    def forget_absent(self, prefix: str, start_after: str, last_key: str | None, seen: Iterable[str]) -> None:
        """Drop cached keys a listing passed over without seeing (deleted streams).

        The listing covered keys under ``prefix`` after ``start_after`` up to ``last_key`` (None: to the end).
        """
        present = set(seen)
        with self._lock:
            gone = [
                key
                for key in self._entries
                if key.startswith(prefix)
                and key > start_after
                and (last_key is None or key <= last_key)
                and key not in present
            ]
            for key in gone:
                del self._entries[key]

    def save(self) -> None:
        """Persist the cache for the next process; a full store only means the next cold listing reads more."""
        with self._lock:
            body = {"format": FORMAT, "records": {key: [tag, record] for key, (tag, record) in self._entries.items()}}
        try:
            self._store.put(STREAM_SUMMARIES_KEY, json.dumps(body, separators=(",", ":")).encode())
        except StoreFullError:
            logger.warning("stream summaries not saved: the store is full")
