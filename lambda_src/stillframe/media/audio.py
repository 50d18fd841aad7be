"""An upload's audio track, carried into the fragments beside the video without being decoded.

Which track: the first audio track of a codec Matroska holds (``MATROSKA_AUDIO``; AAC is what KVS producers send,
as track 2); any other audio track is left out, as are subtitles and data. Fragments written before audio was kept
simply have no audio track; readers that want video only never see the difference.

How audio is cut: a packet is never split (that would mean re-encoding), it goes whole to the fragment in whose span
its start falls, the span running from the fragment's first presented video frame to the next fragment's first. So
a packet straddling a cut goes with the fragment it starts in, whose audio then ends up to one audio frame after its
video (21 ms of AAC at 48 kHz), and the next fragment's audio starts up to one frame after its video. The first
fragment also takes what starts before its first frame (AAC's priming packet, needed to decode the first samples);
the last takes what starts after its end. Every audio packet of the upload is stored exactly once.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from fractions import Fraction

import av
import av.audio.stream
import av.container

from stillframe.media.gops import PER_PACKET_OVERHEAD

# Audio codecs a Matroska fragment holds (FFmpeg's codec names), copied as they come.
MATROSKA_AUDIO = frozenset(
    {"aac", "opus", "vorbis", "mp3", "mp2", "flac", "ac3", "eac3", "alac", "pcm_s16le", "pcm_s24le", "pcm_f32le"}
)


@dataclass(frozen=True, slots=True)
class AudioPacket:
    """An audio packet with its start and duration in the track's time base."""

    packet: av.Packet
    pts: int
    duration: int


class AudioTrack:
    """The audio packets demuxed and not yet given to a fragment, in decode order."""

    def __init__(self, stream: av.audio.stream.AudioStream) -> None:
        self.stream = stream
        self.time_base = Fraction(stream.time_base or Fraction(1, stream.sample_rate or 1))
        self.codec: str = stream.codec_context.codec.canonical_name
        self._pending: deque[AudioPacket] = deque()
        self._next_pts = 0
        self.buffered_bytes = 0  # Matroska bytes of the pending packets

    def add(self, packet: av.Packet) -> None:
        """Keep one demuxed packet (missing timestamps follow on from the previous packet)."""
        pts = packet.pts if packet.pts is not None else packet.dts if packet.dts is not None else self._next_pts
        duration = packet.duration if packet.duration and packet.duration > 0 else 0
        self._next_pts = pts + duration
        self._pending.append(AudioPacket(packet, pts, duration))
        self.buffered_bytes += packet.size + PER_PACKET_OVERHEAD

    def take(self, until: Fraction | None) -> list[AudioPacket]:
        """The pending packets starting before ``until`` (seconds), or all of them when None."""
        taken: list[AudioPacket] = []
        while self._pending and (until is None or self._pending[0].pts * self.time_base < until):
            packet = self._pending.popleft()
            self.buffered_bytes -= packet.packet.size + PER_PACKET_OVERHEAD
            taken.append(packet)
        return taken


def audio_track(container: av.container.InputContainer) -> AudioTrack | None:
    """The upload's audio track to keep (module docstring), or None."""
    for stream in container.streams.audio:
        if stream.codec_context.name in MATROSKA_AUDIO and stream.time_base is not None:
            return AudioTrack(stream)
    return None
