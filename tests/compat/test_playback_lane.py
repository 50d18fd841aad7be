"""A video keeps playing while the handler's request slots are busy: players' GETs have a lane of their own."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import boto3
from botocore.config import Config

from tests.conftest import T0
from tests.support.playback import http_get, media_uri, playlist_uris
from tests.support.serve import put_media_cli, running_serve

CREDS = {"aws_access_key_id": "test", "aws_secret_access_key": "test", "region_name": "us-east-1"}


def test_segments_are_served_while_every_request_slot_is_taken(tmp_path, clip_factory):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(clip_factory(seconds=4, fps=25, gop=50, container="mp4"))
    with running_serve("--data-dir", str(tmp_path / "data"), "--max-concurrent-requests", "1") as (url, _):
        put_media_cli(url, "lane", str(clip), "--producer-start-time", str(T0))
        client = boto3.client(
            "kinesis-video-archived-media", endpoint_url=url, config=Config(retries={"total_max_attempts": 1}), **CREDS
        )
        time_range = {
            "StartTimestamp": datetime.fromtimestamp(T0, UTC),
            "EndTimestamp": datetime.fromtimestamp(T0 + 4, UTC),
        }
        session = client.get_hls_streaming_session_url(
            StreamName="lane",
            PlaybackMode="ON_DEMAND",
            HLSFragmentSelector={"FragmentSelectorType": "PRODUCER_TIMESTAMP", "TimestampRange": time_range},
        )["HLSStreamingSessionURL"]
        # Given the one request slot held by a client sending its body slowly
        parts = urlsplit(url)
        holder = socket.create_connection((parts.hostname, parts.port))
        holder.sendall(
            b"POST /listStreams HTTP/1.1\r\nHost: "
            + parts.netloc.encode()
            + b"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        )
        waiting: dict[str, object] = {}
        other = threading.Thread(target=lambda: waiting.update(answer=client.list_fragments(StreamName="lane")))
        try:
            other.start()
            other.join(timeout=1.0)
            assert other.is_alive()  # an API call waits for the slot
            # When a player fetches its playlists and segments
            master = http_get(session)
            playlist_url = urljoin(session, media_uri(master.text))
            playlist = http_get(playlist_url)
            segments = [http_get(urljoin(playlist_url, uri)) for uri in playlist_uris(playlist.text)]
            # Then they are answered while the slot is still held
            assert other.is_alive()
            assert master.status == playlist.status == 200 and [s.status for s in segments] == [200, 200]
        finally:
            holder.close()  # the slot is given back: the waiting call goes on
            other.join(timeout=30)
        assert not other.is_alive() and "answer" in waiting
