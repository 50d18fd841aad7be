"""Keys auth and playback: a session is made by a signed call and bound to its key; the player's GETs carry no
signature, only the SessionToken, and stop working as soon as the key is revoked."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from stillframe.access.backends import KeyFile
from stillframe.access.keystore import AccessKey
from tests.conftest import T0, FakeContext
from tests.functional.test_keys_auth_handler import (
    T,
    boto3_event,
    create,
    handle,
    keys,
    keys_settings,
    proxy_event,
    put_media_event,
)

__all__ = ["handle", "keys"]  # fixtures used by name


def player_get(tmp_path: Path, url: str) -> tuple[int, bytes]:
    """An unsigned GET of ``url`` through the keys-auth handler of ``handle`` (same settings, same store)."""
    event = proxy_event("GET", url, {}, None)
    query = parse_qs(urlsplit(url).query)
    event["queryStringParameters"] = {name: values[-1] for name, values in query.items()}
    event["multiValueQueryStringParameters"] = query
    return raw_call(tmp_path, event)


def raw_call(tmp_path: Path, event: dict[str, Any]) -> tuple[int, bytes]:
    """(status, body bytes) of one event through a keys-auth handler over ``handle``'s store and key file."""
    from stillframe.handlers.api import lambda_handler
    from stillframe.wiring import build

    response = lambda_handler(event, FakeContext(), svc=build(keys_settings(tmp_path, keys_cache_seconds=0)))
    body = response.get("body") or ""
    return response["statusCode"], base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()


def session(handle: Callable[..., Any], key: AccessKey, stream: str) -> dict[str, Any]:
    return handle(
        boto3_event(
            key,
            "get_hls_streaming_session_url",
            StreamName=stream,
            PlaybackMode="ON_DEMAND",
            HLSFragmentSelector={
                "FragmentSelectorType": "PRODUCER_TIMESTAMP",
                "TimestampRange": {"StartTimestamp": T0, "EndTimestamp": T0 + 4},
            },
        )
    )


def test_a_read_only_prefix_key_plays_its_streams_until_it_is_revoked(
    handle: Callable[..., Any], keys: dict[str, AccessKey], tmp_path: Path, clip_factory: Callable[..., bytes]
) -> None:
    # Given lobby-1 and garage with media, and a read-only key limited to lobby- streams
    for name in ("lobby-1", "garage"):
        assert create(handle, keys["open"], name)["status"] == 200
        stored = raw_call(tmp_path, put_media_event(keys["open"], name, clip_factory(seconds=4, fps=25, gop=50)))
        assert stored[0] == 200, stored
    # When it asks for a session of its stream, the URL plays without any signature
    made = session(handle, keys["viewer"], "lobby-1")
    assert made["status"] == 200, made
    url = made["body"]["HLSStreamingSessionURL"]
    status, master = player_get(tmp_path, url)
    assert status == 200 and master.startswith(b"#EXTM3U")
    media_url = urljoin(url, next(line for line in master.decode().splitlines() if not line.startswith("#")))
    assert player_get(tmp_path, media_url)[0] == 200
    # And a session of a stream outside its prefix is refused when asked for
    refused = session(handle, keys["viewer"], "garage")
    assert refused["status"] == 401 and "garage" in refused["body"]["message"]
    # When the key is revoked, its session stops at once (not when it expires)
    KeyFile(tmp_path / "keys.json").update(lambda s: s.revoked(keys["viewer"].access_key_id, at=T))
    status, body = player_get(tmp_path, media_url)
    assert status == 401 and b"no longer active" in body
    # And a session made without keys (another deployment's token) does not open anything here
    token = parse_qs(urlsplit(url).query)["SessionToken"][0]
    assert player_get(tmp_path, url.replace(token, token[::-1]))[0] == 401
