"""Inspect generated clips: how many leading pictures (shown before their key frame, decoded after it) each GOP has."""

from __future__ import annotations

import io

import av


def leading_counts(data: bytes) -> list[int]:
    """For each key frame of a file, how many following packets are shown before it."""
    counts: list[int] = []
    key = None
    with av.open(io.BytesIO(data)) as container:
        for packet in container.demux(video=0):
            if not packet.size:
                continue
            if packet.is_keyframe:
                key = packet.pts
                counts.append(0)
            elif key is not None and packet.pts < key:
                counts[-1] += 1
    return counts
