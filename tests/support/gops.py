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


def reference_chain_frames(data: bytes, rank: int) -> int:
    """Pictures a decoder must decode to show frame ``rank`` (presentation order) of a one-GOP H.264/HEVC file.

    Read from the bitstream, not from a decoder: every reference picture (H.264 nal_ref_idc > 0; HEVC any VCL
    type but the sub-layer non-reference ones) from the key frame up to the frame's own packet in decode order,
    plus that packet.
    """
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        codec = stream.codec_context.name
        packets = [(packet.pts, bytes(packet)) for packet in container.demux(stream) if packet.size]
    own = sorted(pts for pts, _ in packets)[rank]
    position = next(i for i, (pts, _) in enumerate(packets) if pts == own)
    return 1 + sum(_is_reference(payload, codec) for _, payload in packets[:position])


def _is_reference(payload: bytes, codec: str) -> bool:
    """Whether the picture in a length-prefixed (4-byte) H.264/HEVC packet may be referred to by others."""
    offset = 0
    while offset + 4 < len(payload):
        size = int.from_bytes(payload[offset : offset + 4], "big")
        header = payload[offset + 4]
        offset += 4 + size
        if codec == "h264" and header & 0x1F in (1, 5):  # coded slice
            return bool(header >> 5 & 3)
        if codec == "hevc" and (header >> 1) & 0x3F < 32:  # VCL NAL unit
            kind = (header >> 1) & 0x3F
            return not (kind <= 14 and kind % 2 == 0)  # TRAIL_N, TSA_N, STSA_N, RADL_N, RASL_N, RSV_VCL_N10-14
    raise ValueError("no coded slice in the packet")
