"""Open media safely and read its video packets with complete, integer timestamps.

Shared by the splitter (uploads) and the fragment reader (stored fragments). Every libav failure
becomes ``MediaError`` with a sentence a user can act on; nothing here decodes.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from typing import BinaryIO, Protocol

import av
import av.audio.stream
import av.container
import av.video.stream
from av.stream import Discard

from stillframe.errors import MediaError

logger = logging.getLogger(__name__)

MediaSource = bytes | bytearray | memoryview | str | os.PathLike[str] | BinaryIO

# Uploads (bytes, files, file objects) may only be probed as these containers. Playlist and script demuxers
# (hls, concat, ...) would make FFmpeg open other files or URLs named inside an untrusted upload. AVI names no
# other file: it is what MJPEG cameras record.
_UPLOAD_FORMATS = "matroska,webm,mov,mp4,m4a,3gp,3g2,mj2,mpegts,avi,h264,hevc"
_SUPPORTED = "Matroska/WebM, MP4, MPEG-TS, AVI or raw H.264/H.265"
# Demuxers that turn non-video files into a "video" track: text art and single still images (for URLs,
# which the operator names and which may be anything FFmpeg reads, e.g. RTSP or HLS).
_PSEUDO_VIDEO_FORMATS = {"tty", "image2", "gif", "apng", "webp_pipe"}
_FALLBACK_RATE = Fraction(25)
_MP4_FIRST_BOXES = {b"ftyp", b"mdat", b"free", b"wide", b"skip"}
_MISSING_MOOV = (
    "the MP4 index (moov) is missing: the file is incomplete (a recording or copy that did not finish); "
    "remux a complete copy, or record to fragmented MP4 or MPEG-TS"
)
# Matroska tags of a fragment with frames an edit list leaves out: the presentation window, in ms from the
# fragment's earliest frame (relative, so it survives the muxer shifting negative timestamps to zero). Frames
# starting in [from, until) are presented; the others are decode-only. Without the tags every frame is presented.
PRESENT_FROM_TAG = "STILLFRAME_PRESENT_FROM"
PRESENT_UNTIL_TAG = "STILLFRAME_PRESENT_UNTIL"
# Every tag Stillframe writes into a fragment for itself starts with this (the presentation window above, the
# display tags of ``media.display``). Only our splitter writes them: an upload's are never read (``client_tags``).
OWN_TAG_PREFIX = "STILLFRAME_"
# FFmpeg's smallest look-ahead when opening (``open_input(probe=False)``): it stops at the header's parameters.
_NO_PROBING = {"probesize": "32", "analyzeduration": "0"}
# The largest coded picture accepted: the top level of H.264 and HEVC (6.2) and of AV1 (6.3) allows 35,651,584 luma
# samples (8192x4352; 8K UHD 7680x4320 fits). One decoded picture is then at most ~107 MB (10-bit 4:2:0). Uploads
# over it are refused, and decoders are told the same limit, so a bitstream that claims more than its container
# does is refused by the decoder instead of allocated.
MAX_PICTURE_PIXELS = 35_651_584


@dataclass(frozen=True, slots=True)
class TimedPacket:
    """A video packet with its timestamps resolved, in the stream's time base."""

    packet: av.Packet
    pts: int
    duration: int
    keyframe: bool
    # Decode-only: an MP4 edit list leaves it out of the presentation (pre-roll before a trimmed start, or
    # frames after a trimmed end); it is still needed to decode the presented frames that depend on it.
    discard: bool = False

    @property
    def size(self) -> int:
        """Payload size in bytes."""
        return self.packet.size


@contextmanager
def open_input(source: MediaSource, *, probe: bool = True) -> Iterator[av.container.InputContainer]:
    """Open bytes, a path (streamed, never read whole), a binary file object or a URL for demuxing.

    Everything but a URL must be Matroska/WebM, MP4/MOV, MPEG-TS, AVI or a raw H.264/H.265 stream.
    ``probe=False``: the source's header describes its track fully (a producer's cluster behind the Tracks serve
    read itself), so FFmpeg reads no packets ahead to guess parameters; its default probing decodes frames and
    costs ~3x the rest of a 2 s 720p cluster's split.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        if not len(source):
            raise MediaError("cannot parse media: the body is empty")
        source = io.BytesIO(source)
    is_url = isinstance(source, str) and "://" in source
    options = {} if is_url else {"format_whitelist": _UPLOAD_FORMATS}
    if not probe:
        options |= _NO_PROBING
    try:
        container = av.open(source, mode="r", container_options=options)
    except av.ArgumentError as exc:  # what FFmpeg answers for a container outside the whitelist
        raise MediaError(f"cannot parse media: not a supported container ({_SUPPORTED})") from exc
    except av.InvalidDataError as exc:
        if not is_url and _starts_like_mp4(source):
            raise MediaError(_MISSING_MOOV) from exc
        raise MediaError(f"cannot parse media: {_reason(exc)}") from exc
    except av.FFmpegError as exc:
        raise MediaError(f"cannot parse media: {_reason(exc)}") from exc
    try:
        if _is_pseudo_video(container):
            raise MediaError(f"media is not a video container (detected {container.format.name})")
        yield container
    finally:
        container.close()


def video_stream(container: av.container.InputContainer) -> av.video.stream.VideoStream:
    """The first video track, or MediaError when there is none."""
    if not container.streams.video:
        raise MediaError("media has no video track")
    stream = container.streams.video[0]
    time_base_of(stream)
    return stream


def client_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """An upload's container tags without Stillframe's own (``OWN_TAG_PREFIX``): what a client wrote is never ours.

    Fragments hold our tags because our splitter wrote them; in an upload the same names are only claims (a forged
    ``STILLFRAME_SAR`` would otherwise set every still's size), so they are dropped, with one log line.
    """
    own = sorted(name for name in tags if name.upper().startswith(OWN_TAG_PREFIX))
    if own:
        logger.warning("ignored Stillframe's own tags in an upload", extra={"tags": own})
    return {name: value for name, value in tags.items() if name not in own}


def check_picture_size(width: int, height: int) -> None:
    """MediaError when a coded picture is larger than ``MAX_PICTURE_PIXELS``."""
    if width * height > MAX_PICTURE_PIXELS:
        raise MediaError(
            f"the video's pictures are {width}x{height}, more than the {MAX_PICTURE_PIXELS:,} pixels "
            "(8192x4352) the codecs' top levels allow"
        )


def time_base_of(stream: av.video.stream.VideoStream) -> Fraction:
    """The track's time base (libav always sets one for demuxed tracks; MediaError if not)."""
    if stream.time_base is None:
        raise MediaError("cannot parse media: the video track has no time base")
    return Fraction(stream.time_base)


class PacketSink(Protocol):
    """Takes the packets of one more track while the video is demuxed (``media.audio.AudioTrack``)."""

    stream: av.audio.stream.AudioStream

    def add(self, packet: av.Packet) -> None:
        """Keep one packet of ``stream``."""


def iter_packets(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, audio: PacketSink | None = None
) -> Iterator[TimedPacket]:
    """Yield the video track's packets in decode order, with pts and duration always filled in.

    ``audio`` is handed the packets of its track as they are demuxed. Every other track is discarded by the
    demuxer itself (Matroska skips such blocks unread), so a reader of video pays almost nothing for the audio.
    """
    timer = PacketTimer(stream)
    wanted = [stream] if audio is None else [stream, audio.stream]
    for other in container.streams:
        if other not in wanted:
            other.discard = Discard.all
    try:
        for packet in container.demux(wanted):
            if not packet.size:  # the demuxer ends with an empty flush packet per track
                continue
            if packet.stream.index == stream.index:
                yield timer.stamp(packet)
            elif audio is not None:
                audio.add(packet)
    except av.FFmpegError as exc:
        raise MediaError(f"cannot parse media: {_reason(exc)}") from exc


def presentation_window(tags: Mapping[str, str]) -> tuple[int, int] | None:
    """The presentation window a fragment's tags name (ms from its earliest frame), or None: every frame presented."""
    start, end = tags.get(PRESENT_FROM_TAG), tags.get(PRESENT_UNTIL_TAG)
    if start is None or end is None:
        return None
    try:
        return int(start), int(end)
    except ValueError as exc:
        raise MediaError("cannot parse the fragment: its presentation window tags are not integers") from exc


def windowed_packets(packets: Iterator[TimedPacket], window: tuple[int, int], time_base: Fraction) -> list[TimedPacket]:
    """The packets of a tagged fragment (or put-media chunk), those starting outside ``window`` flagged discard.

    Matroska has no per-frame discard flag, so splitting one of our own fragments again (the server splits what
    ``put-media`` sends) must take the trimmed frames from the tags, or the edit list would be lost.
    """
    listed = list(packets)
    if not listed:
        return listed
    earliest = min(packet.pts for packet in listed)
    start, end = window
    return [
        dataclasses.replace(
            packet, discard=packet.discard or not start <= to_ms(packet.pts - earliest, time_base) < end
        )
        for packet in listed
    ]


MILLISECONDS = Fraction(1, 1000)  # Matroska's time base, in which fragments are written and read


def to_ms(ticks: int, time_base: Fraction) -> int:
    """Stream ticks to integer milliseconds, rounding half up (the same rounding for starts and ends)."""
    scaled = Fraction(ticks) * time_base * 1000
    return int((scaled + Fraction(1, 2)) // 1)


def decode_times(pts: list[int]) -> list[int]:
    """Monotonic decode times with dts <= pts for every packet: the sorted pts, shifted back just enough.

    Sources often lack dts (Matroska stores none) or carry ones that no longer fit after rounding to ms.
    """
    if not pts:
        return []
    ordered = sorted(pts)
    shift = max(0, *(first - own for first, own in zip(ordered, pts, strict=True)))
    return [value - shift for value in ordered]


class PacketTimer:
    """Fills in missing timestamps: pts from dts (or the previous frame's end), duration from the frame rate.

    Decode timestamps are not kept: Matroska stores presentation times only, and the splitter derives
    valid decode times per fragment from the presentation order.
    """

    def __init__(self, stream: av.video.stream.VideoStream) -> None:
        time_base = time_base_of(stream)
        rate = stream.average_rate or stream.guessed_rate or _FALLBACK_RATE
        self.default_duration = max(1, round(1 / (Fraction(rate) * time_base)))
        self.next_pts = 0

    def stamp(self, packet: av.Packet) -> TimedPacket:
        """Return the packet with resolved timestamps."""
        duration = packet.duration if packet.duration and packet.duration > 0 else self.default_duration
        pts = packet.pts
        if pts is None:
            pts = packet.dts if packet.dts is not None else self.next_pts
        self.next_pts = max(self.next_pts, pts + duration)
        return TimedPacket(packet, pts, duration, bool(packet.is_keyframe), bool(packet.is_discard))


def _starts_like_mp4(source: str | os.PathLike[str] | BinaryIO) -> bool:
    """True when the first box of ``source`` is an MP4 ``ftyp``, ``mdat``, ``free`` or ``wide`` box."""
    try:
        if isinstance(source, str | os.PathLike):
            with open(source, "rb") as file:
                head = file.read(12)
        else:
            position = source.tell()
            source.seek(0)
            head = source.read(12)
            source.seek(position)
    except OSError:
        return False
    return head[4:8] in _MP4_FIRST_BOXES


def _is_pseudo_video(container: av.container.InputContainer) -> bool:
    names = set(container.format.name.split(","))
    return bool(names & _PSEUDO_VIDEO_FORMATS) or any(name.endswith("_pipe") for name in names)


def _reason(exc: av.FFmpegError) -> str:
    """FFmpeg's own reason, without the file name (which for uploads is a meaningless buffer)."""
    return str(getattr(exc, "strerror", None) or exc)
