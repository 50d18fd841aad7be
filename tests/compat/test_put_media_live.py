"""`stillframe put-media` from a live URL sends each fragment as it completes (not 4 MiB at a time)."""

from __future__ import annotations

import functools
import http.server
import threading

import boto3

from tests.conftest import T0
from tests.support.serve import put_media_cli


def test_live_url_is_sent_fragment_by_fragment(server, clip_factory, tmp_path):
    # Given a 6 s MPEG-TS stream served over HTTP on loopback
    (tmp_path / "live.ts").write_bytes(clip_factory(seconds=6, fps=25, gop=50, container="mpegts"))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    source = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=source.serve_forever, daemon=True).start()
    try:
        # When put-media reads it as a live source
        result = put_media_cli(
            server, "live", f"http://127.0.0.1:{source.server_address[1]}/live.ts", "--producer-start-time", str(T0)
        )
    finally:
        source.shutdown()
    # Then each ~2 s fragment went up in its own request, and all of them are stored at their producer times
    assert "3 fragments persisted in 3 chunks" in result.stderr
    media = boto3.client(
        "kinesis-video-archived-media",
        endpoint_url=server,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    fragments = media.list_fragments(StreamName="live")["Fragments"]
    assert sorted(f["ProducerTimestamp"].timestamp() for f in fragments) == [T0, T0 + 2, T0 + 4]
