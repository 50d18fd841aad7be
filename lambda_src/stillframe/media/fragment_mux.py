"""Write one fragment's packets into a standalone Matroska file, timestamps in milliseconds.

Track 1 is the video; track 2, when the upload has one, its audio (``media.audio``), as KVS producers number them.

The file carries the presentation window of frames an edit list leaves out (``demux.PRESENT_FROM_TAG``,
``PRESENT_UNTIL_TAG``), the display tags, and KVS's image-generation tag when asked for. The same packets always
make the same bytes (bitexact), so a fragment written twice is one blob.
"""

from __future__ import annotations

import io
from fractions import Fraction

import av
import av.audio.stream
import av.container
import av.stream
import av.video.stream

from stillframe.errors import MediaError
from stillframe.media.audio import AudioPacket
from stillframe.media.demux import (
    MILLISECONDS,
    PRESENT_FROM_TAG,
    PRESENT_UNTIL_TAG,
    TimedPacket,
    decode_times,
    time_base_of,
    to_ms,
)
from stillframe.media.display import Display

# One cluster per fragment (KVS's shape): the muxer still splits a cluster if a block offset would overflow.
# bitexact: no random segment UID or muxing date, so the same fragment always has the same bytes (dedupe).
_MUXER_OPTIONS = {"cluster_time_limit": "3600000", "cluster_size_limit": "2147483647", "fflags": "+bitexact"}
# KVS generates images only for fragments carrying this MKV simple tag, with no value (KVS developer guide,
# "Automated real-time image generation"); stillframe.delivery does the same.
IMAGE_GENERATION_TAG = "AWS_KINESISVIDEO_IMAGE_GENERATION"


def mux_fragment(
    packets: list[TimedPacket],
    stream: av.video.stream.VideoStream,
    window: tuple[int, int] | None,
    shown: Display,
    tagged: bool = False,
    audio: tuple[av.audio.stream.AudioStream, list[AudioPacket]] | None = None,
) -> bytes:
    """Write the packets, timestamps in ms, into a new Matroska file tagged with ``window``, ``shown`` and, when
    ``tagged``, KVS's image-generation tag; ``audio``'s packets go in a second track."""
    time_base = time_base_of(stream)
    starts = [to_ms(timed.pts, time_base) for timed in packets]
    buffer = io.BytesIO()
    try:
        with av.open(buffer, mode="w", format="matroska", options=_MUXER_OPTIONS) as output:
            if window is not None:
                output.metadata[PRESENT_FROM_TAG], output.metadata[PRESENT_UNTIL_TAG] = map(str, window)
            output.metadata.update(shown.tags())
            if tagged:
                output.metadata[IMAGE_GENERATION_TAG] = ""
            track = output.add_stream_from_template(stream, opaque=True)
            track.time_base = MILLISECONDS
            sound = None if audio is None else output.add_stream_from_template(audio[0], opaque=True)
            if sound is not None:
                sound.time_base = MILLISECONDS
            for timed, pts, dts in zip(packets, starts, decode_times(starts), strict=True):
                packet = timed.packet
                packet.stream, packet.time_base = track, MILLISECONDS
                packet.pts, packet.dts = pts, dts
                packet.duration = max(1, to_ms(timed.pts + timed.duration, time_base) - pts)
                output.mux(packet)
            if audio is not None and sound is not None:
                _mux_audio(output, sound, audio[1], Fraction(audio[0].time_base or MILLISECONDS))
    except av.FFmpegError as exc:
        raise MediaError(f"cannot remux media into Matroska: {exc}") from exc
    return buffer.getvalue()


def _mux_audio(
    output: av.container.OutputContainer, track: av.stream.Stream, packets: list[AudioPacket], time_base: Fraction
) -> None:
    """Mux the audio packets (the muxer interleaves them with the video by time)."""
    for timed in packets:
        packet, start = timed.packet, to_ms(timed.pts, time_base)
        packet.stream, packet.time_base = track, MILLISECONDS
        packet.pts = packet.dts = start
        packet.duration = max(0, to_ms(timed.pts + timed.duration, time_base) - start)
        output.mux(packet)
