"""Every KVS operation Stillframe answers, on one screen: the table the rest of the code derives its lists from.

A row says what the operation is called, the path its service model gives it (``http.requestUri``), the model
its request is validated into, whether a read-only key may call it, and which function serves it on AWS (the
light control-plane function or the media function). The access policy takes ``read_only`` and ``per_stream``
from here; tests check that the resolver's routes, ``docs/openapi.json`` and the API Gateway routing agree with
it. Adding an operation: its request model, its operation function, one row here, one route, its tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from stillframe.domain.image_generation_requests import DescribeImageGenerationRequest, UpdateImageGenerationRequest
from stillframe.domain.media_requests import GetClipRequest, GetMediaForFragmentListRequest, GetMediaRequest
from stillframe.domain.playback_requests import GetDASHStreamingSessionURLRequest, GetHLSStreamingSessionURLRequest
from stillframe.domain.put_media_headers import PutMediaHeaders
from stillframe.domain.requests import GetImagesRequest, ListFragmentsRequest
from stillframe.domain.shapes import WireModel
from stillframe.domain.stream_admin_requests import (
    ListTagsForResourceRequest,
    ListTagsForStreamRequest,
    TagResourceRequest,
    TagStreamRequest,
    UntagResourceRequest,
    UntagStreamRequest,
    UpdateDataRetentionRequest,
    UpdateStreamRequest,
)
from stillframe.domain.stream_requests import (
    CreateStreamRequest,
    DeleteStreamRequest,
    DescribeStreamRequest,
    GetDataEndpointRequest,
    ListStreamsRequest,
)


class Plane(StrEnum):
    """Which deployed function answers an operation: the light control plane, or the media image."""

    CONTROL = "control"
    MEDIA = "media"


@dataclass(frozen=True)
class OperationSpec:
    """One operation of the table.

    ``request``: the model the request is validated into; ``from_headers``: from the request's headers (PutMedia's
    ``x-amzn-*``: its body is the media), not from the JSON body. ``per_stream``: the request names the stream(s)
    it acts on (``request.streams_named()``); False only for ListStreams, which names none and whose answer is
    filtered to what the caller may see instead.
    """

    name: str
    path: str
    request: type[WireModel]
    read_only: bool
    plane: Plane
    per_stream: bool = True
    from_headers: bool = False


C, M = Plane.CONTROL, Plane.MEDIA
OPERATIONS: tuple[OperationSpec, ...] = (
    # kinesisvideo: streams
    OperationSpec("CreateStream", "/createStream", CreateStreamRequest, read_only=False, plane=C),
    OperationSpec("DescribeStream", "/describeStream", DescribeStreamRequest, read_only=True, plane=C),
    OperationSpec("ListStreams", "/listStreams", ListStreamsRequest, read_only=True, plane=C, per_stream=False),
    OperationSpec("DeleteStream", "/deleteStream", DeleteStreamRequest, read_only=False, plane=C),
    OperationSpec("GetDataEndpoint", "/getDataEndpoint", GetDataEndpointRequest, read_only=True, plane=C),
    # kinesisvideo: stream updates and tags
    OperationSpec("UpdateDataRetention", "/updateDataRetention", UpdateDataRetentionRequest, read_only=False, plane=C),
    OperationSpec("UpdateStream", "/updateStream", UpdateStreamRequest, read_only=False, plane=C),
    OperationSpec("TagStream", "/tagStream", TagStreamRequest, read_only=False, plane=C),
    OperationSpec("UntagStream", "/untagStream", UntagStreamRequest, read_only=False, plane=C),
    OperationSpec("ListTagsForStream", "/listTagsForStream", ListTagsForStreamRequest, read_only=True, plane=C),
    OperationSpec("TagResource", "/TagResource", TagResourceRequest, read_only=False, plane=C),
    OperationSpec("UntagResource", "/UntagResource", UntagResourceRequest, read_only=False, plane=C),
    OperationSpec("ListTagsForResource", "/ListTagsForResource", ListTagsForResourceRequest, read_only=True, plane=C),
    # kinesisvideo: image generation
    OperationSpec(
        "UpdateImageGenerationConfiguration",
        "/updateImageGenerationConfiguration",
        UpdateImageGenerationRequest,
        read_only=False,
        plane=C,
    ),
    OperationSpec(
        "DescribeImageGenerationConfiguration",
        "/describeImageGenerationConfiguration",
        DescribeImageGenerationRequest,
        read_only=True,
        plane=C,
    ),
    # kinesis-video-archived-media and kinesis-video-media
    OperationSpec("GetImages", "/getImages", GetImagesRequest, read_only=True, plane=M),
    OperationSpec("ListFragments", "/listFragments", ListFragmentsRequest, read_only=True, plane=M),
    OperationSpec("GetClip", "/getClip", GetClipRequest, read_only=True, plane=M),
    OperationSpec(
        "GetMediaForFragmentList",
        "/getMediaForFragmentList",
        GetMediaForFragmentListRequest,
        read_only=True,
        plane=M,
    ),
    OperationSpec("GetMedia", "/getMedia", GetMediaRequest, read_only=True, plane=M),
    OperationSpec(
        "GetHLSStreamingSessionURL",
        "/getHLSStreamingSessionURL",
        GetHLSStreamingSessionURLRequest,
        read_only=True,
        plane=M,
    ),
    OperationSpec(
        "GetDASHStreamingSessionURL",
        "/getDASHStreamingSessionURL",
        GetDASHStreamingSessionURLRequest,
        read_only=True,
        plane=M,
    ),
    OperationSpec("PutMedia", "/putMedia", PutMediaHeaders, read_only=False, plane=M, from_headers=True),
)
_BY_PATH = {spec.path: spec for spec in OPERATIONS}
_BY_NAME = {spec.name: spec for spec in OPERATIONS}


def operation_at(path: str) -> OperationSpec | None:
    """The operation a route path names (exactly, as the resolver routes: ``/getImages``), or None."""
    return _BY_PATH.get(path)


def operation_named(name: str) -> OperationSpec:
    """The row of the operation ``name`` (KeyError for none)."""
    return _BY_NAME[name]
