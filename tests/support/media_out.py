"""Read what GetClip and GetMediaForFragmentList answer: frame numbers of an MP4, the fragments of a Matroska stream.

PyAV decodes (no ffprobe); the Matroska stream is cut into its files and their tags read by a small EBML walker.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Any

import av

from stillframe import ebml
from stillframe.ebml import id_bytes
from tests.support.producer import top_elements as elements
from tests.support.synth import read_frame_number

# Element IDs as written, from the package's one EBML vocabulary.
EBML_HEADER, SEGMENT, TAGS, TAG, SIMPLE_TAG, TAG_NAME, TAG_STRING, CLUSTER = (
    id_bytes(element_id)
    for element_id in (
        ebml.EBML_HEADER,
        ebml.SEGMENT,
        ebml.TAGS,
        ebml.TAG,
        ebml.SIMPLE_TAG,
        ebml.TAG_NAME,
        ebml.TAG_STRING,
        ebml.CLUSTER,
    )
)


def clip_frames(mp4: bytes) -> list[tuple[int, float]]:
    """(painted frame number, presentation time in s) of every frame the MP4 presents, in order."""
    with av.open(io.BytesIO(mp4)) as container:
        assert container.format.name.startswith("mov"), container.format.name
        return [(read_frame_number(frame.to_image()), float(frame.time)) for frame in container.decode(video=0)]


def media_call(invoke: Any, path: str, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    """(status, lower-cased headers, body bytes) of a media operation called through the real handler."""
    from stillframe.handlers.api import lambda_handler
    from tests.conftest import FakeContext, rest_event

    response = lambda_handler(rest_event(path, body), FakeContext(), svc=invoke.services)
    raw = base64.b64decode(response["body"]) if response.get("isBase64Encoded") else response["body"].encode()
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    headers.update({k.lower(): v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()})
    return response["statusCode"], headers, raw


@dataclass
class MkvFile:
    """One Matroska file of the stream: its bytes and its simple tags."""

    data: bytes
    tags: dict[str, str]
    clusters: int


def mkv_files(stream: bytes) -> list[MkvFile]:
    """Cut a stream of Matroska files at each EBML header (sizes are known in what Stillframe writes)."""
    files: list[MkvFile] = []
    at = 0
    for raw_id, payload in elements(stream):
        length = len(raw_id) + _header_length(stream, at + len(raw_id)) + len(payload)
        if raw_id == EBML_HEADER:
            files.append(MkvFile(b"", {}, 0))
        assert files, "the stream must start with an EBML header"
        files[-1].data += stream[at : at + length]
        if raw_id == SEGMENT:
            for child_id, child in elements(payload):
                if child_id == TAGS:
                    files[-1].tags.update(_simple_tags(child))
                files[-1].clusters += child_id == CLUSTER
        at += length
    return files


def _header_length(data: bytes, at: int) -> int:
    return 1 + next(i for i in range(8) if data[at] & (0x80 >> i))


def _simple_tags(tags: bytes) -> dict[str, str]:
    found: dict[str, str] = {}
    for tag_id, tag in elements(tags):
        if tag_id != TAG:
            continue
        for simple_id, simple in elements(tag):
            if simple_id == SIMPLE_TAG:
                parts = dict(elements(simple))
                found[parts[TAG_NAME].decode()] = parts.get(TAG_STRING, b"").decode()
    return found


def mkv_frames(data: bytes) -> list[tuple[int, int]]:
    """(painted frame number, pts in ms) of every frame of one Matroska file."""
    with av.open(io.BytesIO(data), format="matroska") as container:
        return [(read_frame_number(frame.to_image()), int(frame.pts)) for frame in container.decode(video=0)]


def three_fragments(invoke: Any, clip_factory: Any, stream: str = "cam") -> list[dict[str, Any]]:
    """A new stream holding 6 s at 25 fps from T0, key frame every 2 s: three fragments, as ListFragments lists them."""
    from tests.conftest import T0
    from tests.support.kvs import put_media

    invoke("/createStream", {"StreamName": stream, "DataRetentionInHours": 1})
    put_media(invoke, stream, clip_factory(seconds=6, fps=25, gop=50), T0)
    return invoke("/listFragments", {"StreamName": stream})["body"]["Fragments"]
