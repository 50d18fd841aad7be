"""Decode chosen frames of a demuxed fragment the way GetImages' engine does, for tests that check the pictures.

The engine (``stillframe.images.engine``) groups a page's frames by ``DemuxedFragment.gop_of``, runs one task per
GOP over ``DemuxedFragment.steps`` with the next page's frames of that GOP as ``follow``, and takes the frames as
they come out. This does the same, without the page's rendering, budget and time slices.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Executor

import av

from stillframe.errors import MediaError
from stillframe.media.fragment import DemuxedFragment


def decode_frames(
    fragment: DemuxedFragment,
    wanted: Iterable[int],
    *,
    follow: Iterable[int] = (),
    executor: Executor | None = None,
) -> dict[int, av.VideoFrame]:
    """The wanted frames (indices into ``fragment.frames``) by index, each GOP decoded once from its key frame.

    ``follow`` names the next page's frames: a fragment opened with a key parks the decoders of GOPs they fall in.
    With an ``executor`` the GOPs are decoded in parallel, one task each, as the engine's worker pool does. An index
    outside the fragment is an IndexError; a frame before the first key frame (a MEDIA_ERROR sample in the engine)
    a MediaError.
    """
    by_gop: dict[int, set[int]] = {}
    for index in wanted:
        gop = fragment.gop_of(index)
        if gop is None:
            raise MediaError("the frame precedes the fragment's first key frame")
        by_gop.setdefault(gop, set()).add(index)
    later = set(follow)

    def decode_gop(gop: int) -> dict[int, av.VideoFrame]:
        in_gop = {index for index in later if fragment.gop_of(index) == gop}
        return dict(step for step in fragment.steps(gop, by_gop[gop], in_gop) if step is not None)

    if executor is None:
        results = [decode_gop(gop) for gop in sorted(by_gop)]
    else:
        results = [future.result() for future in [executor.submit(decode_gop, gop) for gop in sorted(by_gop)]]
    return {index: frame for result in results for index, frame in result.items()}
