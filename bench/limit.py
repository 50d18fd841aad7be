"""The decode limit: the least decoding the samples need, timed frame by frame, plus the encoding they need.

For each request (page), each GOP holding a sample is decoded from its key frame through its last wanted frame
by a fresh single-threaded decoder fed pre-demuxed packets, so nothing but libavcodec's own work is timed.
The wanted frames are then rendered by Stillframe's renderer (scale/convert + JPEG/PNG encode) and timed.
No program can do less on one core; on n cores the limit is this divided by n.
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
    """The least decode time plus the encode time (fastest repetition), with per-frame costs."""
    source = _gop_packets(fixture, samples)
    runs = [_once(scenario, fixture, samples, source) for _ in range(scenario.reps)]
    best = min(runs, key=lambda run: run["limit_s"])
    frames = sum(least_frames(page) for page in pages(samples, scenario.max_results))
    return {"wall_s": [run["limit_s"] for run in runs], "images": len(samples), "frames_decoded": frames, **best}


@dataclass
class _Source:
    codec: av.codec.Codec
    extradata: bytes | None
    gops: dict[int, list[av.Packet]]  # GOP number -> packets in decode order


def _gop_packets(fixture: StreamFixture, samples: list[int]) -> _Source:
    """Demuxed packets (decode order) of every GOP that holds a sample, by GOP number."""
    wanted = {expected_frame(t) // GOP for t in samples}
    found: dict[int, list[av.Packet]] = {}
    for index in covering(fixture, samples):
        first_gop = expected_frame(fixture.fragment_starts_ms[index]) // GOP
        with av.open(fixture.fragment_paths[index]) as container:
            packets = [packet for packet in container.demux(video=0) if packet.size]
            stream = container.streams.video[0]
            codec, extradata = stream.codec_context.codec, stream.codec_context.extradata
        for n in range(len(packets) // GOP):
            if first_gop + n in wanted:
                found[first_gop + n] = packets[n * GOP : (n + 1) * GOP]
    return _Source(codec, extradata, found)


def _once(scenario: Scenario, fixture: StreamFixture, samples: list[int], source: _Source) -> dict[str, Any]:
    from stillframe.media.render import output_size, render

    image_format, width, height = OUTPUTS[scenario.output]
    size = output_size(fixture.width, fixture.height, width, height)
    key_s = other_s = encode_s = 0.0
    keys = others = 0
    for page in pages(samples, scenario.max_results):
        positions: dict[int, set[int]] = {}
        for t_ms in page:
            gop, position = divmod(expected_frame(t_ms), GOP)
            positions.setdefault(gop, set()).add(position)
        for gop, wanted in sorted(positions.items()):
            frames, timing = _decode(source.codec, source.extradata, source.gops[gop][: max(wanted) + 1], wanted)
            key_s, other_s = key_s + timing[0], other_s + timing[1]
            keys, others = keys + 1, others + max(wanted)
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
    codec: av.codec.Codec, extradata: bytes | None, packets: list[av.Packet], wanted: set[int]
) -> tuple[list[av.VideoFrame], tuple[float, float]]:
    """Decode the packets; return the wanted frames and (key frame seconds, other frames seconds)."""
    decoder = av.CodecContext.create(codec, "r")
    assert isinstance(decoder, av.video.codeccontext.VideoCodecContext)
    if extradata:
        decoder.extradata = extradata
    decoder.thread_count = 1
    kept, timing = [], [0.0, 0.0]
    for position, packet in enumerate(packets):
        started = time.perf_counter()
        out = decoder.decode(packet)
        timing[position > 0] += time.perf_counter() - started
        if position in wanted:
            kept.extend(out)
    if len(kept) != len(wanted):
        raise RuntimeError("the decoder held frames back; the limit needs a decoder without delay")
    return kept, (timing[0], timing[1])
