"""Following a playback session as a player does: the session URL, its playlists or manifest, and the segments they
name, fetched through the real handler (functional tests) or over HTTP (``http_get``), then decoded with PyAV."""

from __future__ import annotations

import base64
import io
import re
import ssl
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import av

from tests.support.synth import read_frame_number

MPD_NS = {"mpd": "urn:mpeg:dash:schema:mpd:2011"}
KVS_NS = "https://kinesisvideo.amazonaws.com/dash"


@dataclass
class Got:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


def handler_get(invoke: Any, url: str) -> Got:
    """GET ``url`` (one a session led to) through the real lambda_handler, as API Gateway would deliver it."""
    from stillframe.handlers.api import lambda_handler
    from tests.conftest import FakeContext, rest_event

    parts = urlsplit(url)
    path = parts.path[parts.path.index("/hls/") if "/hls/" in parts.path else parts.path.index("/dash/") :]
    event = rest_event(path)
    event["httpMethod"] = event["requestContext"]["httpMethod"] = "GET"
    event["body"] = None
    query = parse_qs(parts.query, keep_blank_values=True)
    event["queryStringParameters"] = {name: values[-1] for name, values in query.items()} or None
    event["multiValueQueryStringParameters"] = query or None
    response = lambda_handler(event, FakeContext(), svc=invoke.services)
    raw = response.get("body") or ""
    body = base64.b64decode(raw) if response.get("isBase64Encoded") else raw.encode()
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    headers.update({k.lower(): v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()})
    return Got(response["statusCode"], headers, body)


def http_get(url: str, headers: dict[str, str] | None = None, *, cafile: str | None = None, method: str = "GET") -> Got:
    """GET ``url`` over HTTP(S), unsigned (errors are answers too); ``cafile``: the CA that verifies HTTPS."""
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    context = ssl.create_default_context(cafile=cafile) if cafile else None
    try:
        with urllib.request.urlopen(request, timeout=60, context=context) as response:
            return Got(response.status, {k.lower(): v for k, v in response.headers.items()}, response.read())
    except urllib.error.HTTPError as exc:
        return Got(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())


def playlist_uris(text: str) -> list[str]:
    """The URI lines of an m3u8 (segments, or a master's variants)."""
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def tag_values(text: str, tag: str) -> list[str]:
    """The values of every ``#TAG:value`` line."""
    return [line.split(":", 1)[1] for line in text.splitlines() if line.startswith(tag + ":")]


def map_uris(text: str) -> list[str]:
    return re.findall(r'#EXT-X-MAP:URI="([^"]+)"', text)


def media_uri(master: str, kind: str = "video") -> str:
    """The media playlist of the master's variant (video) or of its audio rendition."""
    if kind == "audio":
        return re.findall(r'#EXT-X-MEDIA:TYPE=AUDIO[^\n]*URI="([^"]+)"', master)[0]
    return playlist_uris(master)[0]


def hls_segments(get: Any, master_url: str, kind: str = "video") -> tuple[str, list[bytes]]:
    """(media playlist text, [init + each media segment ...] or [each TS segment ...]) of an HLS session."""
    master = get(master_url).text
    playlist_url = urljoin(master_url, media_uri(master, kind))
    playlist = get(playlist_url).text
    init = b""
    maps = map_uris(playlist)
    if maps:
        init = get(urljoin(playlist_url, maps[0])).body
    return playlist, [init] + [get(urljoin(playlist_url, uri)).body for uri in playlist_uris(playlist)]


def decoded_frames(media: bytes, *, fmt: str | None = None) -> list[tuple[int, float]]:
    """(frame number painted in it, presentation time in s) of every video frame of ``media``, in display order."""
    out: list[tuple[int, float]] = []
    with av.open(io.BytesIO(media), format=fmt) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            out.append((read_frame_number(frame.to_image()), float(frame.time)))
    return out


def audio_seconds(media: bytes) -> float:
    """Seconds of decoded audio in ``media``."""
    with av.open(io.BytesIO(media)) as container:
        stream = container.streams.audio[0]
        return sum(frame.samples for frame in container.decode(stream)) / stream.rate


def mpd(text: str) -> ET.Element:
    return ET.fromstring(text)
