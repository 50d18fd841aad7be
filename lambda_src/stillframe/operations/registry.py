"""``Operations``: every operation bound to one process's ports, so a route makes exactly one call.

Built once per process by ``wiring.build`` (``Services.operations``). Each method passes exactly the ports its
operation takes; the operation modules stay plain functions.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from stillframe.catalog.arrivals import ARRIVALS
from stillframe.catalog.stream_updates import StreamUpdates
from stillframe.domain.image_generation_requests import DescribeImageGenerationRequest, UpdateImageGenerationRequest
from stillframe.domain.media_requests import GetClipRequest, GetMediaForFragmentListRequest, GetMediaRequest
from stillframe.domain.playback_requests import PlaybackSessionRequest
from stillframe.domain.put_media_headers import PutMediaHeaders
from stillframe.domain.requests import GetImagesRequest, ListFragmentsRequest
from stillframe.domain.stream_admin_requests import UpdateDataRetentionRequest, UpdateStreamRequest
from stillframe.domain.stream_requests import (
    CreateStreamRequest,
    DeleteStreamRequest,
    DescribeStreamRequest,
    GetDataEndpointRequest,
    ListStreamsRequest,
)
from stillframe.domain.token import TokenCodec
from stillframe.operations import (
    get_clip,
    get_images,
    get_media,
    get_media_for_fragment_list,
    image_generation,
    list_fragments,
    list_streams,
    playback,
    playback_session,
    put_media,
    put_media_session,
    stream_admin,
    streams,
    tags,
)
from stillframe.operations.paging import now_ms

if TYPE_CHECKING:
    from stillframe.catalog.fragments import FragmentIndex
    from stillframe.catalog.streams import StreamCatalog
    from stillframe.delivery.worker import Deliveries
    from stillframe.operations.paging import Clock
    from stillframe.settings import Settings
    from stillframe.storage.port import ObjectStore


class Ports(Protocol):
    """What the operations are built over: one process's services (``wiring.Services`` is one)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def store(self) -> ObjectStore: ...

    @property
    def streams(self) -> StreamCatalog: ...

    @property
    def fragments(self) -> FragmentIndex: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def tokens(self) -> TokenCodec: ...

    @property
    def deliveries(self) -> Deliveries: ...


class MediaSessionPort(Protocol):
    """A transport that streams PutMedia (serve's ``server.session.MediaSession``)."""

    def chunks(self) -> Iterator[bytes]: ...

    def send(self, line: bytes) -> None: ...


class MediaWriterPort(Protocol):
    """A transport that streams GetMedia's answer as it is made (serve's ``server.media_writer.MediaWriter``)."""

    def start(self) -> None: ...

    def write(self, data: bytes) -> None: ...

    def alive(self) -> bool: ...


class Operations:
    """The KVS operations over one process's services (``wiring.build``): each method hands its operation function
    exactly the ports it takes, so a route makes one call."""

    def __init__(self, svc: Ports) -> None:
        self._svc = svc
        self.streams = svc.streams
        self.fragments = svc.fragments
        self.updates = StreamUpdates(svc.store, svc.streams)

    @property
    def tokens(self) -> TokenCodec:
        return self._svc.tokens

    @property
    def settings(self) -> Settings:
        return self._svc.settings

    @property
    def deliveries(self) -> Deliveries:
        """Image deliveries for uploads (built on the first upload)."""
        return self._svc.deliveries

    def now_ms(self) -> int:
        return now_ms(self._svc.clock)

    def create_stream(self, request: CreateStreamRequest) -> dict[str, Any]:
        return streams.create_stream(request, streams=self.streams)

    def describe_stream(self, request: DescribeStreamRequest) -> dict[str, Any]:
        return streams.describe_stream(request, streams=self.streams)

    def delete_stream(self, request: DeleteStreamRequest) -> dict[str, Any]:
        return streams.delete_stream(request, streams=self.streams)

    def get_data_endpoint(self, request: GetDataEndpointRequest, *, reached_at: str) -> dict[str, Any]:
        """``reached_at``: the URL the request came in on, used unless a public URL is configured."""
        settings = self._svc.settings
        endpoint = settings.public_url.rstrip("/") or reached_at
        if request.api_name == streams.PUT_MEDIA:
            endpoint = streams.put_media_endpoint(settings.put_media_endpoint, endpoint, settings.streams_put_media)
        return streams.get_data_endpoint(request, streams=self.streams, endpoint=endpoint)

    def list_streams(
        self, request: ListStreamsRequest, *, visible: Callable[[str], bool] | None = None
    ) -> dict[str, Any]:
        """``visible``: which stream names the caller may see (None: all)."""
        return list_streams.list_streams(request, streams=self.streams, tokens=self.tokens, visible=visible)

    def list_fragments(self, request: ListFragmentsRequest) -> dict[str, Any]:
        return list_fragments.list_fragments(
            request, streams=self.streams, fragments=self.fragments, tokens=self.tokens, now_ms=self.now_ms()
        )

    def get_images(self, request: GetImagesRequest, *, remaining_ms: int | None = None) -> dict[str, Any]:
        """``remaining_ms``: the time the caller has left (Lambda's); without one, the configured budget (serve)."""
        remaining = self._svc.settings.time_budget_ms if remaining_ms is None else remaining_ms
        return get_images.get_images(
            request,
            streams=self.streams,
            fragments=self.fragments,
            tokens=self.tokens,
            now_ms=self.now_ms(),
            budget_s=get_images.budget_s(remaining),
        )

    def get_clip(self, request: GetClipRequest) -> bytes:
        """The MP4 of the requested range, at most the process's ``max_media_bytes``."""
        return get_clip.get_clip(
            request,
            streams=self.streams,
            fragments=self.fragments,
            now_ms=self.now_ms(),
            max_bytes=self._svc.settings.max_media_bytes,
        )

    def get_media_for_fragment_list(self, request: GetMediaForFragmentListRequest) -> bytes:
        """The listed fragments as one Matroska stream, at most the process's ``max_media_bytes``."""
        return get_media_for_fragment_list.get_media_for_fragment_list(
            request,
            streams=self.streams,
            fragments=self.fragments,
            now_ms=self.now_ms(),
            max_bytes=self._svc.settings.max_media_bytes,
        )

    def get_media(
        self, request: GetMediaRequest, writer: MediaWriterPort | None = None, *, remaining_ms: int | None = None
    ) -> bytes:
        """GetMedia through ``writer`` as fragments come (following the stream; returns b""), or without one
        buffered: what is stored after the start, at most ``max_media_bytes``, ended within ``remaining_ms``."""
        if writer is not None:
            follow = get_media.Follow(follow=True, alive=writer.alive)
        else:
            remaining = self._svc.settings.time_budget_ms if remaining_ms is None else remaining_ms
            deadline = time.monotonic() + get_media.buffered_time_s(remaining)
            follow = get_media.Follow(
                follow=False,
                max_bytes=self._svc.settings.max_media_bytes,
                first_wait_s=get_media.FIRST_WAIT_S,
                deadline=deadline,
            )
        chunks = get_media.get_media(
            request,
            streams=self.streams,
            fragments=self.fragments,
            tokens=self.tokens,
            arrivals=ARRIVALS,
            now_ms=self.now_ms,
            follow=follow,
        )
        if writer is None:
            return b"".join(chunks)
        writer.start()  # the request is valid: the client gets its 200 before the first fragment (a live tail)
        for chunk in chunks:
            writer.write(chunk)
        return b""

    def playback_session(self, request: PlaybackSessionRequest, *, base_url: str, key_id: str | None) -> str:
        """A session URL under ``base_url`` (this endpoint as the client reached it); ``key_id``: the caller's key."""
        return playback_session.create_session(
            request,
            streams=self.streams,
            fragments=self.fragments,
            tokens=self.tokens,
            now_ms=self.now_ms(),
            base_url=base_url,
            key_id=key_id,
        )

    def playback_resource(
        self, path: str, params: dict[str, str], *, key_check: playback.KeyCheck | None
    ) -> playback.Answer:
        """A GET of a playback session (playlist, manifest or segment); segments at most ``max_media_bytes``."""
        return playback.resource(
            path,
            params,
            streams=self.streams,
            fragments=self.fragments,
            tokens=self.tokens,
            now_ms=self.now_ms(),
            key_check=key_check,
            max_bytes=self._svc.settings.max_media_bytes,
        )

    def put_media(self, body: bytes, headers: PutMediaHeaders) -> str:
        """The ack stream of one PutMedia body, received now."""
        return put_media.put_media(
            body,
            headers,
            streams=self.streams,
            fragments=self.fragments,
            deliveries=self.deliveries,
            now_ms=self.now_ms(),
        )

    def put_media_session(self, session: MediaSessionPort, headers: PutMediaHeaders) -> None:
        """A streaming PutMedia: acks sent through ``session`` as the clusters of its body arrive."""
        stream = self.streams.find(headers.stream.stream_name, headers.stream.arn)
        stream.require_retention("media would not be kept; give the stream a retention period (UpdateDataRetention).")
        acks = put_media_session.put_media_session(
            session.chunks(),
            headers,
            stream,
            fragments=self.fragments,
            deliveries=self.deliveries,
            now_ms=self.now_ms,
        )
        for ack in acks:
            session.send(json.dumps(ack.to_json()).encode() + b"\n")

    def update_data_retention(self, request: UpdateDataRetentionRequest) -> dict[str, Any]:
        return stream_admin.update_data_retention(request, updates=self.updates)

    def update_stream(self, request: UpdateStreamRequest) -> dict[str, Any]:
        return stream_admin.update_stream(request, updates=self.updates)

    def tag(self, request: tags.TagRequest) -> dict[str, Any]:
        return tags.tag(request, updates=self.updates)

    def untag(self, request: tags.UntagRequest) -> dict[str, Any]:
        return tags.untag(request, updates=self.updates)

    def list_tags(self, request: tags.ListTagsRequest) -> dict[str, Any]:
        return tags.list_tags(request, updates=self.updates)

    def update_image_generation(self, request: UpdateImageGenerationRequest) -> dict[str, Any]:
        return image_generation.update_image_generation(request, updates=self.updates, region=self._svc.settings.region)

    def describe_image_generation(self, request: DescribeImageGenerationRequest) -> dict[str, Any]:
        return image_generation.describe_image_generation(request, streams=self.streams)
