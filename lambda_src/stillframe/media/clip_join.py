"""Join MP4 clips of consecutive ranges into one MP4: every track's packets copied, nothing re-encoded.

Each clip's time 0 is its range's start (GetClip's edit list), so a clip's packets are moved by its start's offset
from the first clip's: the joined timeline is the source's. Packets a clip times before its 0 (the hidden start of
its first GOP) keep their negative offset, so only the first clip's can end up before the joined 0, where the
muxer's edit list hides them again. A packet that would not decode after the one already written for its track
(an audio packet both clips carry at their shared edge) is left out rather than doubled.
"""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import av.container

from stillframe.errors import MediaError


class ClipLayoutChanged(MediaError):
    """A clip's tracks differ from the first clip's: they cannot share one MP4."""


class ClipJoiner:
    """Write clips, one after another, into one MP4 file; use as a context manager."""

    def __init__(self, path: Path) -> None:
        self._output = av.open(str(path), mode="w", format="mp4", options={"fflags": "+bitexact"})
        self._streams: list[av.stream.Stream] = []
        self._codecs: list[str] = []
        self._last_dts: dict[int, Fraction] = {}

    def add(self, mp4: bytes, offset_ms: int) -> None:
        """Append one clip whose time 0 lies ``offset_ms`` after the first clip's."""
        with av.open(io.BytesIO(mp4), mode="r") as clip:
            inputs = list(clip.streams)
            self._check_layout(inputs)
            offset = Fraction(offset_ms, 1000)
            for packet in clip.demux(*inputs):
                if packet.dts is not None and packet.pts is not None:  # else the demuxer's end-of-stream marker
                    self._write(packet, packet.pts, packet.dts, offset)

    def _check_layout(self, inputs: list[av.stream.Stream]) -> None:
        codecs = [stream.codec_context.name for stream in inputs]
        if not self._streams:
            self._streams = [self._output.add_stream_from_template(stream) for stream in inputs]
            self._codecs = codecs
        elif codecs != self._codecs:
            raise ClipLayoutChanged(f"a clip holds tracks {codecs}, the first one {self._codecs}")

    def _write(self, packet: av.Packet, pts: int, dts: int, offset: Fraction) -> None:
        index = packet.stream.index
        time_base = packet.time_base
        shift = round(offset / time_base)
        packet.pts, packet.dts = pts + shift, dts + shift
        at = (dts + shift) * time_base
        if index in self._last_dts and at <= self._last_dts[index]:
            return
        self._last_dts[index] = at
        packet.stream = self._streams[index]
        self._output.mux(packet)

    def close(self) -> None:
        """Finish the file (its index and edit lists)."""
        self._output.close()

    def __enter__(self) -> ClipJoiner:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
