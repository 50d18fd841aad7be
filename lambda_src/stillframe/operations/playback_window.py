"""Which fragments a playback session's playlist or manifest lists right now, numbered for the player.

A player matches segments across reloads of a live playlist by their sequence numbers, so every fragment of a
session keeps one number for the session's life: its position in the session's ordered listing. The modes order
and bound that listing as the reference pages describe:

- ON_DEMAND: the fragments starting in [StartTimestamp, EndTimestamp] of the session's timeline, oldest first, at
  most the session's maximum; the list is final (the playlist ends).
- LIVE: fragments in arrival (server time) order from ``LIVE_LOOKBACK_MS`` before the session began; the playlist
  shows the newest few. A fragment that arrives after a newer one was listed is not added (the gap stays).
- LIVE_REPLAY: fragments from StartTimestamp on, revealed as time passes: the first window at once, then one more
  each time a fragment's duration has elapsed since the session began; it ends once EndTimestamp's fragments are
  all shown (without EndTimestamp it runs into live media until the session expires).

Sequence numbers need the listing from the session's beginning. A process keeps each session's listing so far
(``_LISTINGS``, a small LRU) and reads only what was added since its last look, so a reload costs one short
listing at any session age; a process that never saw the session lists it once from the start.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from stillframe.catalog.fragments import FragmentIndex
from stillframe.catalog.keys import FragmentRecord
from stillframe.catalog.stream_record import StreamRecord
from stillframe.domain.clocks import Timeline
from stillframe.domain.playback import PlaybackSession

LIVE_LOOKBACK_MS = 30_000  # a LIVE session starts from fragments that arrived in the last 30 s
DISCONTINUITY_MS = 50  # ON_DISCONTINUITY: a gap or overlap over 50 ms between fragments
_MAX_SESSIONS = 128


@dataclass(frozen=True)
class Entry:
    """A fragment of the session: its place in the listing, its start on the session's timeline, whether a
    discontinuity marker goes before it."""

    record: FragmentRecord
    sequence: int
    start_ms: int
    discontinuity: bool


@dataclass(frozen=True)
class Window:
    """What a playlist or manifest lists now."""

    entries: tuple[Entry, ...]
    ended: bool  # no fragment will be added: the playlist ends (ON_DEMAND; a LIVE_REPLAY past its end)
    discontinuity_sequence: int  # discontinuities before the first entry (HLS's EXT-X-DISCONTINUITY-SEQUENCE)


@dataclass
class _Listing:
    entries: list[Entry] = field(default_factory=list)
    cursor: str = ""  # the last index marker read
    complete: bool = False  # ON_DEMAND, or a LIVE_REPLAY whose range is all read
    lock: threading.Lock = field(default_factory=threading.Lock)


_LISTINGS: OrderedDict[str, _Listing] = OrderedDict()
_LISTINGS_LOCK = threading.Lock()


def window(
    session: PlaybackSession, token: str, stream: StreamRecord, fragments: FragmentIndex, *, now_ms: int
) -> Window:
    """The session's listed fragments at ``now_ms`` (retained ones only)."""
    listing = _listing_for(token)
    with listing.lock:
        _extend(listing, session, stream.media_id, fragments, now_ms=now_ms)
        entries = list(listing.entries)
    ended = session.mode == "ON_DEMAND"
    if session.mode == "LIVE_REPLAY":
        shown = _revealed(entries, session, now_ms)
        ended = listing.complete and len(shown) == len(entries)
        entries = shown
    # ON_DEMAND lists the oldest fragments up to the maximum; the live modes the newest.
    entries = entries[: session.max_fragments] if session.mode == "ON_DEMAND" else entries[-session.max_fragments :]
    first = entries[0].sequence if entries else 0
    before = sum(1 for entry in listing.entries[:first] if entry.discontinuity)
    kept = tuple(entry for entry in entries if stream.retains(entry.record, now_ms=now_ms))
    return Window(kept, ended, before)


def member(session: PlaybackSession, record: FragmentRecord) -> bool:
    """Whether a fragment lies in what the session grants (its range; LIVE: arrived since its lookback)."""
    if session.mode == "LIVE":
        return record.server_ms >= session.created_ms - LIVE_LOOKBACK_MS
    start = record.start(session.timeline)
    assert session.start_ms is not None  # the request model requires it outside LIVE
    return start >= session.start_ms and (session.end_ms is None or start <= session.end_ms)


def _listing_for(token: str) -> _Listing:
    with _LISTINGS_LOCK:
        listing = _LISTINGS.pop(token, None) or _Listing()
        _LISTINGS[token] = listing
        while len(_LISTINGS) > _MAX_SESSIONS:
            _LISTINGS.popitem(last=False)
        return listing


def _extend(
    listing: _Listing, session: PlaybackSession, media_id: str, fragments: FragmentIndex, *, now_ms: int
) -> None:
    """Read the fragments indexed since the listing's last look (all of them the first time)."""
    if listing.complete:
        return
    if session.mode == "LIVE":
        timeline, start = Timeline.SERVER.value, session.created_ms - LIVE_LOOKBACK_MS
        end = now_ms
    else:
        assert session.start_ms is not None
        timeline, start = session.timeline, session.start_ms
        end = session.end_ms if session.end_ms is not None else now_ms
    found: list[FragmentRecord] = []
    starts: set[int] = set()
    expected = session.max_fragments + 1 if session.mode == "ON_DEMAND" else None
    for key, record in fragments.scan(media_id, timeline, start, end, after_key=listing.cursor, expected=expected):
        starts.add(record.start(timeline))
        if session.mode == "ON_DEMAND" and len(starts) > session.max_fragments:
            break  # ON_DEMAND lists the oldest fragments up to its maximum: the rest of the range is never read
        listing.cursor = key
        found.append(record)
    if session.mode == "ON_DEMAND" or (session.end_ms is not None and end < now_ms):
        listing.complete = True
    if session.mode == "ON_DEMAND":
        found = _newest_per_start(found, session.timeline)[: session.max_fragments]
    for record in found:
        _append(listing.entries, record, session)


def _newest_per_start(records: list[FragmentRecord], timeline: str) -> list[FragmentRecord]:
    """One fragment per start time, the newest (largest number), in start order."""
    by_start: dict[int, FragmentRecord] = {}
    for record in records:
        start = record.start(timeline)
        kept = by_start.get(start)
        if kept is None or (len(record.number), record.number) > (len(kept.number), kept.number):
            by_start[start] = record
    return [by_start[start] for start in sorted(by_start)]


def _append(entries: list[Entry], record: FragmentRecord, session: PlaybackSession) -> None:
    start = record.start(session.timeline)
    previous = entries[-1] if entries else None
    if previous is not None and start == previous.start_ms:
        return  # a second copy of the same time (a producer's replay): the first one listed stays
    if session.discontinuities == "ALWAYS":
        marked = True
    elif session.discontinuities == "NEVER" or previous is None:
        marked = False
    else:
        gap = start - (previous.start_ms + previous.record.duration_ms)
        marked = abs(gap) > DISCONTINUITY_MS
    entries.append(Entry(record, len(entries), start, marked))


def _revealed(entries: list[Entry], session: PlaybackSession, now_ms: int) -> list[Entry]:
    """LIVE_REPLAY: the first window at once, then one fragment more per fragment duration elapsed."""
    if not entries:
        return entries
    elapsed = now_ms - session.created_ms
    origin = entries[0].start_ms
    due = sum(1 for entry in entries if entry.start_ms - origin <= elapsed)
    return entries[: due + session.max_fragments - 1]
