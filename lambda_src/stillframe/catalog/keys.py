"""The key layout: where streams, fragments and the fragment index live in the object store.

    streams/<name>.json                                        stream record
    media/<id>/fragments/<number>.<server_ms>.<producer_ms>.<duration_ms>.mkv   fragment blob
    media/<id>/markers/<timeline>/<start[0:4]>/<start[4:7]>/<start_ms:013d>.<duration_ms>.<number>.<other_ms:013d>.<size>
                                                               empty marker, in a shard of its start time
    media/<id>/index/<timeline>/<marker name>                  the flat marker layout of earlier releases
    media/<id>/dedupe/<sha256>                                 body = blob key: the fragment's claim, written first
    media/<id>/pending/<number>                                a fragment whose writes are not all done yet
    summaries/streams.json                                     ListStreams' cache of records (catalog.stream_summaries)
    purge/<id>                                                 a deleted stream whose media is still being deleted
    generate/<id>/<number>                                     an image delivery job (stillframe.delivery.jobs)
    incoming/<name>/...                                        drop zone (S3 ingest)

where ``<id>`` is the stream's media id, ``<name>/<creation ms>``: a stream deleted and created again
under the same name starts empty even if the old media is still being expired.
Stream records and media live under different top-level prefixes so that ListStreams never walks
fragments and an S3 lifecycle rule on ``media/`` can expire media without touching stream records.
Below, ``stream`` arguments are media ids.
A marker key carries everything ListFragments and GetImages need, so a time-range lookup is one
ordered listing; a blob key carries everything a marker needs, so markers can be rebuilt from blobs.
Markers are sharded by start time (the shard directories are prefixes of the 13-digit start, so key
order is still time order): a local-directory lookup opens only the shards it needs, one of about
1,000 s (~500 fragments of 2 s) under a directory of about 11.6 days, whatever the stream's history.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from stillframe.domain.clocks import Timeline

TIMELINES = tuple(Timeline)  # server, producer
# The order a fragment's markers are written in, and undone in reverse: the server marker last, so a fragment whose
# server marker and blob exist is complete (the writer and the repair sweep both go by it).
COMMIT_ORDER = (Timeline.PRODUCER, Timeline.SERVER)
STAMP_DIGITS = 13
LAST_INDEXED_MS = 10**STAMP_DIGITS - 1  # the index's fixed-width times end here; later ones would sort before 1970's


def stream_record_key(name: str) -> str:
    return f"streams/{name}.json"


def is_stream_record_key(key: str) -> bool:
    """True for ``streams/<name>.json`` with a name that could be a stream's (no folder below ``streams/``)."""
    return key.startswith("streams/") and key.endswith(".json") and "/" not in stream_name_from_record_key(key)


def stream_name_from_record_key(key: str) -> str:
    return key[len("streams/") : -len(".json")]


def media_prefix(name: str) -> str:
    return f"media/{name}/"


PURGE_PREFIX = "purge/"
STREAM_SUMMARIES_KEY = "summaries/streams.json"


def purge_key(media_id: str) -> str:
    """A deleted stream whose media may not all be deleted yet (empty body)."""
    return f"{PURGE_PREFIX}{media_id}"


def index_prefix(name: str, timeline: str) -> str:
    return f"media/{name}/markers/{timeline}/"


def legacy_index_prefix(name: str, timeline: str) -> str:
    """Where releases before 2026-12-01 kept markers (flat); ``stillframe reindex`` moves them to the shards."""
    return f"media/{name}/index/{timeline}/"


def shard(ms: int) -> str:
    """The shard directories of a start time: 10^9 ms, then 10^6 ms."""
    text = stamp(ms)
    return f"{text[:4]}/{text[4:7]}"


def marker_seek(name: str, timeline: str, start_ms: int) -> str:
    """A ``start_after`` that lists exactly the markers starting at or after ``start_ms``."""
    if start_ms <= 0:
        return ""
    return f"{index_prefix(name, timeline)}{shard(start_ms - 1)}/{stamp(start_ms - 1)}~"


def fragments_prefix(name: str) -> str:
    return f"media/{name}/fragments/"


def dedupe_key(name: str, digest: str) -> str:
    return f"media/{name}/dedupe/{digest}"


def dedupe_digest(producer_ms: int, data: bytes) -> str:
    """Identity of an uploaded fragment: the same bytes at the same producer time are the same fragment."""
    digest = hashlib.sha256(str(producer_ms).encode() + b"\0")
    digest.update(data)
    return digest.hexdigest()


def pending_prefix(name: str) -> str:
    return f"media/{name}/pending/"


def pending_key(name: str, number: str) -> str:
    """A fragment being written: present from before its blob until after its last marker."""
    return f"{pending_prefix(name)}{number}"


def stamp(ms: int) -> str:
    """A timestamp as a fixed-width decimal, so byte order is time order."""
    return f"{ms:0{STAMP_DIGITS}d}"


@dataclass(frozen=True)
class FragmentRecord:
    """One stored fragment, as the index knows it (times in epoch ms)."""

    stream: str
    number: str
    server_ms: int
    producer_ms: int
    duration_ms: int
    size: int

    def start(self, timeline: str) -> int:
        """The start in ``timeline``, a ``Timeline`` (its plain string values compare equal)."""
        return self.server_ms if timeline == Timeline.SERVER else self.producer_ms

    @property
    def blob_key(self) -> str:
        base = fragments_prefix(self.stream)
        return f"{base}{self.number}.{self.server_ms}.{self.producer_ms}.{self.duration_ms}.mkv"

    def marker_key(self, timeline: str) -> str:
        other = self.start(Timeline(timeline).other)
        start = self.start(timeline)
        name = f"{stamp(start)}.{self.duration_ms}.{self.number}.{stamp(other)}.{self.size}"
        return f"{index_prefix(self.stream, timeline)}{shard(start)}/{name}"

    @classmethod
    def from_marker(cls, stream: str, timeline: str, key: str) -> FragmentRecord:
        """Parse a marker key; raises ValueError for a key that is not a marker."""
        name = key.rsplit("/", 1)[-1]
        start, duration, number, other, size = name.split(".")
        server, producer = (int(start), int(other)) if timeline == Timeline.SERVER else (int(other), int(start))
        return cls(stream, number, server, producer, int(duration), int(size))

    @classmethod
    def from_blob(cls, stream: str, key: str, size: int) -> FragmentRecord:
        """Parse a blob key (for reindexing); raises ValueError for a key that is not a fragment blob."""
        name = key.rsplit("/", 1)[-1]
        number, server, producer, duration, ext = name.split(".")
        if ext != "mkv":
            raise ValueError(f"not a fragment blob: {key}")
        return cls(stream, number, int(server), int(producer), int(duration), size)
