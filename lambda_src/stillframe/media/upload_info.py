"""What the splitter learns about an upload besides its GOPs: how a player shows the track, whether the file ends
before its header says, and where its timestamps restart; the last two become notes for the user.

How a player shows the track (display matrix, pixel aspect ratio; ``stillframe.media.display``) is read once per
upload from the first key frame's decoded side data, unless the uploader states it (``split``'s ``display``).
Stillframe's own display tags in an upload are never read: only fragments our splitter wrote carry ours.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from fractions import Fraction
from typing import Any

import av
import av.container
import av.sidedata.sidedata
import av.video.stream

from stillframe.media import display as display_tags
from stillframe.media.demux import to_ms
from stillframe.media.display import Display
from stillframe.media.gops import Gop

logger = logging.getLogger("stillframe.media.split")  # the splitter's logger: its lines keep their name

_EARLY_END_SLACK_MS = 250  # declared durations may count an audio track or a last frame differently


def display_of(container: av.container.InputContainer, stream: av.video.stream.VideoStream, gop: Gop) -> Display:
    """How a player shows the track: the first key frame's display matrix side data and the track's aspect ratio.

    The display matrix is coded side data of the track that libav hands to decoded frames only (PyAV exposes
    no stream accessor), so one key frame is decoded per upload; its decoder is the track's own.
    """
    matrix = None
    context = stream.codec_context
    try:
        frames = [*context.decode(gop.packets[0].packet), *context.decode(None)]
    except av.FFmpegError as exc:
        logger.info("key frame not decodable while reading the display matrix", extra={"error": str(exc)})
        frames = []
    for frame in frames[:1]:
        sides: Iterable[Any] = frame.side_data  # iterating yields SideData objects (the stubs say keys)
        for side in sides:
            if side.type == av.sidedata.sidedata.Type.DISPLAYMATRIX:
                matrix = bytes(side)
    sar = stream.sample_aspect_ratio or context.sample_aspect_ratio
    shown = display_tags.from_display_matrix(matrix, Fraction(sar) if sar else None)
    if not shown.is_identity:
        logger.info(
            "display transform", extra={"rotate_cw": shown.rotate_cw, "mirror": shown.mirror, "sar": str(shown.sar)}
        )
    return shown


def ends_early(container: av.container.InputContainer, ended: int) -> str | None:
    """A warning when the video, ending at ``ended`` ms, stops well before the duration an MP4 or Matroska header
    declares (a cut-off file)."""
    names = set(container.format.name.split(","))
    if container.duration is None or not names & {"mov", "mp4", "matroska", "webm"}:
        return None  # MPEG-TS and raw streams declare nothing reliable
    origin = Fraction(1, av.time_base)
    declared = to_ms(container.duration + (container.start_time or 0), origin)
    if declared - ended <= _EARLY_END_SLACK_MS:
        return None
    logger.warning("media ends early", extra={"ended_ms": ended, "declared_ms": declared})
    return (
        f"the file ends early: its video stops at {ended / 1000:.3f} s of the {declared / 1000:.3f} s its header "
        "declares (is it truncated?); what is there was ingested"
    )


def restart_note(file_pts: int, continued: int, time_base: Fraction) -> str:
    """The sentence for the user about timestamps that restart at ``file_pts`` after ``continued`` (ticks)."""
    logger.warning(
        "timestamps restart", extra={"file_ms": to_ms(file_pts, time_base), "continued_ms": to_ms(continued, time_base)}
    )
    return (
        f"the timestamps restart (at {to_ms(file_pts, time_base) / 1000:.3f} s after "
        f"{to_ms(continued, time_base) / 1000:.3f} s): the later part continues the timeline, in file order"
    )
