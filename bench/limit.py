"""The decode limit: the least decoding the samples need, timed frame by frame, plus the encoding they need.

For each request (a page; for a range the whole range, whose pages continue one decoder per GOP), each GOP holding
a sample is decoded by a fresh single-threaded decoder fed pre-demuxed packets, so nothing but libavcodec's own work
is timed (under the engine's allocator settings): from its key frame through the last wanted frame's packet
(decode order), skipping the pictures nothing refers to unless one is wanted (``skip_frame`` NONREF), then drained.
That is the reference-chain floor, read from the bitstream here (H.264 nal_ref_idc, independently of Stillframe's
code) and checked against the frames the decoder returns; the older key-frame-to-sample floor (frames 0..k of a GOP
for a sample k frames in) is reported beside it. Without B-frames the two are the same. The wanted frames are then
rendered by Stillframe's renderer (scale/convert + JPEG/PNG encode) and timed. No program can do less on one core;
on n cores the limit is this divided by n.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import av
import av.codec
import av.video.codeccontext

from bench.content import GOP
from bench.fixtures import StreamFixture
from bench.peers import covering
from bench.scenarios import OUTPUTS, Scenario, expected_frame, least_frames, pages


def run_limit(scenario: Scenario, fixture: StreamFixture, samples: list[int]) -> dict[str, Any]:
    """The least decode time plus the encode time (fastest repetition), with per-frame costs and both floors."""
    from stillframe.resources.memory import keep_freed_buffers

    keep_freed_buffers()  # the allocator settings the engine runs under (``stillframe.resources.memory``)
    source = _gop_packets(fixture, samples)
    runs = [_once(scenario, fixture, samples, source) for _ in range(scenario.reps)]
    best = min(runs, key=lambda run: run["limit_s"])
    requests = _requests(scenario, samples)
    paged = pages(samples, scenario.max_results)
    return {
        "wall_s": [run["limit_s"] for run in runs],
        "images": len(samples),
        "frames_decoded": sum(source.chain_frames(_wanted_by_gop(request)) for request in requests),
        "paged_frames": sum(source.chain_frames(_wanted_by_gop(page)) for page in paged),
        "keyframe_frames": sum(least_frames(request) for request in requests),
        **best,
    }


def _requests(scenario: Scenario, samples: list[int]) -> list[list[int]]:
    """What one decode per GOP serves: each page alone, or a whole range (its pages continue one decoder per GOP).

    A range is paged, but a page that starts mid-GOP continues the decoder the previous page kept
    (``stillframe.media.chain``), so a GOP split between pages is decoded once, as if the range were one request.
    """
    return [samples] if scenario.span == "range" else pages(samples, scenario.max_results)


@dataclass
class _GopPackets:
    packets: list[av.Packet]  # decode order
    position_of: dict[int, int]  # presentation position in the GOP -> decode position
    reference: list[bool]  # by decode position: whether other pictures may refer to it

    def needed(self, wanted: set[int]) -> list[int]:
        """Decode positions of the pictures the wanted ones need: the reference chain up to the last, and them."""
        own = {self.position_of[position] for position in wanted}
        return [i for i in range(max(own) + 1) if self.reference[i] or i in own]


@dataclass
class _Source:
    codec: av.codec.Codec
    extradata: bytes | None
    gops: dict[int, _GopPackets]  # GOP number -> its packets

    def chain_frames(self, wanted: dict[int, set[int]]) -> int:
        """The reference-chain floor of one request: per GOP, its reference pictures up to the last wanted one, plus
        the wanted ones."""
        return sum(len(self.gops[gop].needed(positions)) for gop, positions in wanted.items())


def _wanted_by_gop(page: list[int]) -> dict[int, set[int]]:
    """The page's samples as GOP number -> presentation positions in that GOP."""
    positions: dict[int, set[int]] = {}
    for t_ms in page:
        gop, position = divmod(expected_frame(t_ms), GOP)
        positions.setdefault(gop, set()).add(position)
    return positions


def _gop_packets(fixture: StreamFixture, samples: list[int]) -> _Source:
    """Demuxed packets (decode order) of every GOP that holds a sample, by GOP number (closed GOPs of ``GOP``)."""
    wanted = {expected_frame(t) // GOP for t in samples}
    found: dict[int, _GopPackets] = {}
    for index in covering(fixture, samples):
        first_gop = expected_frame(fixture.fragment_starts_ms[index]) // GOP
        with av.open(fixture.fragment_paths[index]) as container:
            packets = [packet for packet in container.demux(video=0) if packet.size]
            stream = container.streams.video[0]
            codec, extradata = stream.codec_context.codec, stream.codec_context.extradata
        for n in range(len(packets) // GOP):
            if first_gop + n in wanted:
                found[first_gop + n] = _gop(packets[n * GOP : (n + 1) * GOP], extradata)
    return _Source(codec, extradata, found)


def _gop(packets: list[av.Packet], extradata: bytes | None) -> _GopPackets:
    by_pts = sorted(range(len(packets)), key=lambda i: packets[i].pts or 0)
    length_size = (extradata[4] & 3) + 1 if extradata else 4  # avcC: NAL length field size
    return _GopPackets(packets, dict(enumerate(by_pts)), [_h264_reference(p, length_size) for p in packets])


def _h264_reference(packet: av.Packet, length_size: int) -> bool:
    """Whether an H.264 picture may be referred to: nal_ref_idc of its first coded slice (types 1 and 5) above 0."""
    data, offset = bytes(packet), 0
    while offset + length_size < len(data):
        size = int.from_bytes(data[offset : offset + length_size], "big")
        header = data[offset + length_size]
        if header & 0x1F in (1, 5):
            return header >> 5 != 0
        offset += length_size + size
    raise RuntimeError("an H.264 packet without a coded slice")


def _once(scenario: Scenario, fixture: StreamFixture, samples: list[int], source: _Source) -> dict[str, Any]:
    from stillframe.media.render import output_size, render

    image_format, width, height = OUTPUTS[scenario.output]
    size = output_size(fixture.width, fixture.height, width, height)
    key_s = other_s = encode_s = 0.0
    keys = others = 0
    for request in _requests(scenario, samples):
        for gop, wanted in sorted(_wanted_by_gop(request).items()):
            frames, timing, decoded = _decode(source.codec, source.extradata, source.gops[gop], wanted)
            key_s, other_s = key_s + timing[0], other_s + timing[1]
            keys, others = keys + 1, others + decoded - 1
            for frame in frames:
                started = time.perf_counter()
                render(frame, width=size[0], height=size[1], image_format=image_format, quality=80)
                encode_s += time.perf_counter() - started
    return {
        "limit_s": key_s + other_s + encode_s,
        "decode_s": key_s + other_s,
        "encode_s": encode_s,
        "key_frame_ms": 1000 * key_s / max(1, keys),
        "other_frame_ms": 1000 * other_s / max(1, others),
        "encode_ms": 1000 * encode_s / max(1, len(samples)),
    }


def _decode(
    codec: av.codec.Codec, extradata: bytes | None, gop: _GopPackets, wanted: set[int]
) -> tuple[list[av.VideoFrame], tuple[float, float], int]:
    """Decode the wanted frames' reference chain and them; (wanted frames, (key frame s, other s), frames decoded).

    RuntimeError when the decoder returns other pictures than the bitstream's reference chain says.
    """
    decoder = av.CodecContext.create(codec, "r")
    assert isinstance(decoder, av.video.codeccontext.VideoCodecContext)
    if extradata:
        decoder.extradata = extradata
    decoder.thread_count = 1
    own = {gop.position_of[position] for position in wanted}
    wanted_pts = {gop.packets[i].pts for i in own}
    kept: list[av.VideoFrame] = []
    timing, decoded = [0.0, 0.0], 0
    for position in range(max(own) + 2):
        started = time.perf_counter()
        if position <= max(own):
            decoder.skip_frame = "DEFAULT" if position in own else "NONREF"
            out = decoder.decode(gop.packets[position])
        else:
            out = decoder.decode(None)
        timing[position > 0] += time.perf_counter() - started
        decoded += len(out)
        kept.extend(frame for frame in out if frame.pts in wanted_pts)
    if len(kept) != len(wanted) or decoded != len(gop.needed(wanted)):
        raise RuntimeError("the decoder returned other pictures than the bitstream's reference chain")
    return kept, (timing[0], timing[1]), decoded
