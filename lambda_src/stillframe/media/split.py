"""Cut an upload into standalone Matroska fragments at key frames, without re-encoding.

A fragment holds whole GOPs of the upload's first video track and the audio of the same span (``media.audio``: how
audio packets are given to fragments), starts on a key frame and carries the codecs' extradata, so it decodes on its
own. Other tracks are dropped. Fragments are cut once they reach ``target_ms`` of presentation time, or before the
next GOP would push them past ``max_bytes`` (audio included) or ``MAX_FRAGMENT_FRAMES`` (video frames). Timestamps
inside a fragment are the source's, in milliseconds (the muxer shifts a fragment whose earliest frame would be
negative, e.g. an edit list's pre-roll or AAC's priming packet, to start at zero).

Frames an MP4 edit list leaves out (pre-roll before a trimmed start, frames after a trimmed end) stay in the
fragment, because presented frames may need them to decode, but are never presented: they are not counted in
a ``MediaFragment``'s times or frame count, and the fragment names its presentation window in two Matroska tags
(``demux.PRESENT_FROM_TAG``, ``PRESENT_UNTIL_TAG``) that the fragment reader honours. GOPs with no presented frame
are dropped.

Open GOPs: a fragment never starts with leading pictures (shown before its first key frame, referencing the
GOP before it). Where a cut falls before such a GOP, its key frame (decode-only) and its leading pictures
(presented) end the previous fragment, which holds what they reference; each fragment stays independent.

How a player shows the track (display matrix, pixel aspect ratio; ``stillframe.media.display``) is read once per
upload from the first key frame's decoded side data (``upload_info``), and tagged into every fragment. Writing a
fragment's Matroska file is ``fragment_mux``.

Stillframe's own tags (``demux.OWN_TAG_PREFIX``) in an upload are never read: a client could forge them. What they
would carry for a chunk ``put-media`` cut from a file (the file's display transform, and the presentation window of
the frames its edit list leaves out, which Matroska cannot express) the client states instead, in PutMedia
headers (``MediaFragment.statement``); the server passes them back in as ``display`` and ``window``, validated.

KVS's image-generation tag (``IMAGE_GENERATION_TAG``, a simple tag with no value) is written into every fragment
when asked for (``put-media --generate-images``) or when the upload carries it among the tags libav reads, so it
survives the server's split of a put-media chunk as the display tags do.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction

import av
import av.container
import av.video.stream

from stillframe.domain.put_media_headers import DISPLAY, PRESENTATION_WINDOW
from stillframe.errors import MediaError
from stillframe.media.audio import AudioTrack, audio_track
from stillframe.media.demux import (
    MediaSource,
    TimedPacket,
    check_picture_size,
    client_tags,
    iter_packets,
    open_input,
    time_base_of,
    to_ms,
    video_stream,
    windowed_packets,
)
from stillframe.media.display import Display
from stillframe.media.fragment_mux import IMAGE_GENERATION_TAG, mux_fragment
from stillframe.media.gops import Gop, Timeline, iter_gops
from stillframe.media.upload_info import display_of, ends_early, restart_note

logger = logging.getLogger(__name__)

# Matroska overhead besides the packet payloads, used to keep fragments under max_bytes.
_HEADER_OVERHEAD = 1024
# A fragment is also cut before it would hold more frames than this (whole GOPs permitting): a reader demuxes every
# packet of a fragment it serves a sample from, so frames per fragment, not only seconds, bound a request's work
# (2 s at 10,000 fps claimed would otherwise be one 20,000-frame fragment).
MAX_FRAGMENT_FRAMES = 2400


@dataclass(frozen=True)
class MediaFragment:
    """One standalone Matroska fragment cut from an upload."""

    data: bytes
    pts_ms: int  # presentation time of its first presented frame, as in the source
    offset_ms: int  # pts_ms minus the upload's first presented frame
    duration_ms: int  # end of its last presented frame minus pts_ms, >= 1
    frame_count: int
    width: int
    height: int
    codec: str
    display: Display = field(default_factory=Display)
    notes: tuple[str, ...] = ()  # what the user should know about the upload, found up to this fragment
    image_generation: bool = False  # carries IMAGE_GENERATION_TAG
    window: tuple[int, int] | None = None  # presentation window, ms from the earliest frame; None: all presented
    longest_gop: int = 0  # packets of its longest GOP: what decoding its last frame may cost
    audio_codec: str | None = None  # codec of its audio track; None: video only

    @property
    def statement(self) -> dict[str, str]:
        """What a server splitting this fragment again must be told: display transform and window, as headers."""
        stated = {} if self.display.is_identity else {DISPLAY: self.display.statement()}
        if self.window is not None:
            stated[PRESENTATION_WINDOW] = f"{self.window[0]}-{self.window[1]}"
        return stated


def iter_fragments(
    source: MediaSource,
    *,
    target_ms: int = 2000,
    max_bytes: int | None = None,
    image_generation: bool = False,
    display: Display | None = None,
    window: tuple[int, int] | None = None,
    probe: bool = True,
) -> Iterator[MediaFragment]:
    """Yield the upload's fragments in order; raise MediaError for unreadable media or media without video.

    ``image_generation`` tags every fragment with IMAGE_GENERATION_TAG; an upload carrying the tag gets it too.
    ``display`` and ``window`` are what the uploader states about a chunk (``MediaFragment.statement``).
    ``probe=False``: the source's header is trusted to describe the track (``demux.open_input``).
    """
    if target_ms < 1:
        raise ValueError("target_ms must be at least 1")
    with open_input(source, probe=probe) as container:
        stream = video_stream(container)
        check_picture_size(stream.codec_context.width, stream.codec_context.height)
        audio = audio_track(container)
        header = _HEADER_OVERHEAD + len(stream.codec_context.extradata or b"")
        header += 0 if audio is None else _HEADER_OVERHEAD + len(audio.stream.codec_context.extradata or b"")
        pending: list[Gop] = []
        origin: int | None = None
        shown = display
        notes: list[str] = []  # sentences for the user about the fragment being built
        seen = 0
        tagged = image_generation or IMAGE_GENERATION_TAG in client_tags(container.metadata)
        packets = _source_packets(container, stream, window, audio)
        timeline = Timeline()
        for gop in _presented_gops(timeline.follow(g) for g in iter_gops(iter(packets))):
            fresh, seen = timeline.restarts[seen:], len(timeline.restarts)
            if shown is None:
                shown = display_of(container, stream, gop)
            audio_bytes = 0 if audio is None else audio.buffered_bytes
            if pending and _should_cut(pending, gop, stream, target_ms, max_bytes, header + audio_bytes):
                # Open GOP: the leading pictures shown before this key frame stay with the GOP they reference.
                lead_in, gop = gop.split_leading()
                if lead_in:
                    pending.append(Gop.of(lead_in))
                fragment = _build(
                    pending,
                    stream,
                    origin,
                    shown,
                    tuple(notes),
                    next_start=_first_start(gop),
                    tagged=tagged,
                    audio=audio,
                    audio_until=_first_start(gop) or gop.packets[0].pts,
                )
                origin = fragment.pts_ms - fragment.offset_ms
                yield fragment
                pending, notes = [], []
            notes.extend(restart_note(*restart, time_base_of(stream)) for restart in fresh)
            if gop.presented:
                pending.append(gop)
        if not pending or shown is None:
            raise MediaError("media has no decodable video frames (no key frame found, or none inside its edit list)")
        last = _build(pending, stream, origin, shown, tuple(notes), tagged=tagged, audio=audio)
        early = None if window is not None else ends_early(container, last.pts_ms + last.duration_ms)
        yield last if early is None else dataclasses.replace(last, notes=(*last.notes, early))


def _source_packets(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    window: tuple[int, int] | None,
    audio: AudioTrack | None,
) -> Iterable[TimedPacket]:
    """The video track's packets, those outside the stated presentation window (a put-media chunk's) marked discard;
    ``audio`` is handed its track's packets as they are demuxed."""
    packets: Iterable[TimedPacket] = iter_packets(container, stream, audio)
    if window is not None:
        packets = windowed_packets(iter(packets), window, time_base_of(stream))
    return packets


def probe_duration_ms(source: MediaSource) -> int | None:
    """The container's declared duration in ms (for progress bars), or None when it does not say.

    MediaError when the file will be refused anyway (unreadable, no video track): before anything is created.
    """
    with open_input(source) as container:
        video_stream(container)
        if container.duration is None or container.duration <= 0:
            return None
        return to_ms(container.duration, Fraction(1, av.time_base))


def _presented_gops(gops: Iterator[Gop]) -> Iterator[Gop]:
    """The GOPs that present at least one frame: one made only of frames an edit list leaves out is never shown."""
    skipped = 0
    for gop in gops:
        if gop.presented:
            yield gop
        else:
            skipped += 1
    if skipped:
        logger.info("dropped GOPs outside the edit list", extra={"gops": skipped})


def _should_cut(
    pending: list[Gop],
    gop: Gop,
    stream: av.video.stream.VideoStream,
    target_ms: int,
    max_bytes: int | None,
    header: int,
) -> bool:
    """Cut before ``gop`` when the fragment is long enough, or when ``gop`` would make it too big or hold too many
    frames (``MAX_FRAGMENT_FRAMES``).

    The length counts ``gop``'s leading pictures, which a cut here would move to the end of this fragment.
    """
    if sum(len(g.packets) for g in pending) + len(gop.packets) > MAX_FRAGMENT_FRAMES:
        return True
    lead_in, _ = gop.split_leading()
    start, end = _span_ms([p for g in (*pending, Gop.of(lead_in)) for p in g.packets], time_base_of(stream))
    if end - start >= target_ms:
        return True
    return max_bytes is not None and header + sum(g.size for g in pending) + gop.size > max_bytes


def _span_ms(packets: list[TimedPacket], time_base: Fraction) -> tuple[int, int]:
    """First presented frame start and last presented frame end, in ms (every GOP presents at least one frame)."""
    packets = [packet for packet in packets if not packet.discard]
    first = min(packets, key=lambda p: p.pts)
    last = max(packets, key=lambda p: p.pts)
    return to_ms(first.pts, time_base), to_ms(last.pts + last.duration, time_base)


def _build(
    gops: list[Gop],
    stream: av.video.stream.VideoStream,
    origin: int | None,
    shown: Display,
    notes: tuple[str, ...] = (),
    next_start: int | None = None,
    *,
    tagged: bool = False,
    audio: AudioTrack | None = None,
    audio_until: int | None = None,
) -> MediaFragment:
    """The fragment of ``gops`` with the audio starting before ``audio_until`` (video ticks; None: all the rest)."""
    time_base = time_base_of(stream)
    sound = None
    if audio is not None:
        sound = audio.stream, audio.take(None if audio_until is None else audio_until * time_base)
    packets = _shown_durations([packet for gop in gops for packet in gop.packets], next_start)
    start, end = _span_ms(packets, time_base)
    window = None
    if any(packet.discard for packet in packets):
        earliest = to_ms(min(packet.pts for packet in packets), time_base)
        window = (start - earliest, end - earliest)
    return MediaFragment(
        data=mux_fragment(packets, stream, window, shown, tagged, sound),
        pts_ms=start,
        offset_ms=start - (start if origin is None else origin),
        duration_ms=max(1, end - start),
        frame_count=sum(gop.presented for gop in gops),
        width=stream.codec_context.width,
        height=stream.codec_context.height,
        codec=stream.codec_context.codec.canonical_name,
        display=shown,
        notes=notes,
        image_generation=tagged,
        window=window,
        longest_gop=max(len(gop.packets) for gop in gops),
        audio_codec=None if audio is None else audio.codec,
    )


def _first_start(gop: Gop) -> int | None:
    """The earliest presented frame start of ``gop`` (ticks), None when it presents none."""
    return min((packet.pts for packet in gop.packets if not packet.discard), default=None)


def _shown_durations(packets: list[TimedPacket], next_start: int | None) -> list[TimedPacket]:
    """The packets, each presented frame lasting until the next presented one starts.

    MP4 durations are decode-order steps: with B-frames at a variable rate they say nothing about how long a frame
    is on screen, and a fragment's end would leave a hole before the next fragment or overlap it. The last frame
    lasts until ``next_start`` (the next fragment's first frame) when that comes within its own duration plus the
    longest step; a later start is a real gap and the frame keeps its own duration.
    """
    shown = sorted((i for i, packet in enumerate(packets) if not packet.discard), key=lambda i: packets[i].pts)
    if not shown:
        return packets
    durations = {a: packets[b].pts - packets[a].pts for a, b in itertools.pairwise(shown)}
    last = packets[shown[-1]]
    longest = max(packets[i].duration for i in shown)
    if next_start is not None and last.pts < next_start <= last.pts + last.duration + longest:
        durations[shown[-1]] = next_start - last.pts
    return [
        dataclasses.replace(packet, duration=durations[i]) if durations.get(i, 0) > 0 else packet
        for i, packet in enumerate(packets)
    ]
