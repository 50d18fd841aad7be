"""serve's HLS and DASH sessions in real players: hls.js and dash.js (npm builds) in Debian's headless Chromium.

The player page comes from another origin (a second loopback server, ``tests.support.players``): it asks serve for
the session URL with ``fetch`` and plays it. What the tests read is the picture on the <video>, drawn into a canvas,
its painted frame number compared with the player's clock. Debian's Chromium plays H.264 and AAC through MSE
(``MediaSource.isTypeSupported('video/mp4; codecs="avc1.64001f"')`` is true), so the fixtures are what cameras send.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import T0
from tests.support.players import (
    chromium,
    current_time,
    grab,
    live_source,
    page_server,
    players_installed,
    seek,
    start_player,
    wait_playing,
)
from tests.support.serve import put_media_cli, running_serve

pytestmark = pytest.mark.browser

FPS = 25
FIRST_S, LAST_S = 2, 14  # the ON_DEMAND range, seconds after T0: frames 50..349
PLAYERS = ["hls", "dash"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if reason := players_installed():
        pytest.skip(reason)
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    with page_server() as served:
        yield served


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    yield tab
    context.close()


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory, clip_factory) -> Iterator[str]:
    """serve holding 16 s of 640x360 H.264 (a key frame a second) from producer time T0."""
    work = tmp_path_factory.mktemp("players")
    clip = work / "clip.mkv"
    clip.write_bytes(clip_factory(seconds=16, fps=FPS, gop=FPS, width=640, height=360))
    with running_serve("--data-dir", str(work / "data")) as (url, _):
        put_media_cli(url, "porch", str(clip), "--producer-start-time", str(T0))
        yield url


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """serve and a camera streaming into it for 30 s (one 1 s fragment a second); (URL, producer start ms)."""
    data = tmp_path_factory.mktemp("live") / "data"
    with running_serve("--data-dir", str(data)) as (url, _), live_source(url, "door", seconds=30) as start_ms:
        time.sleep(3)  # a few fragments in
        yield url, start_ms


def on_demand(kind: str) -> dict[str, Any]:
    selector = {
        "FragmentSelectorType": "PRODUCER_TIMESTAMP",
        "TimestampRange": {"StartTimestamp": T0 + FIRST_S, "EndTimestamp": T0 + LAST_S},
    }
    return {"StreamName": "porch", "PlaybackMode": "ON_DEMAND", f"{kind.upper()}FragmentSelector": selector}


@pytest.mark.parametrize("kind", PLAYERS)
def test_on_demand_plays_from_another_origin_and_shows_the_frame_of_its_clock(recorded, origin, page, kind) -> None:
    # Given a page of another origin that asks serve for an ON_DEMAND session of 2 s..14 s and plays it
    start_player(page, origin, recorded, kind, on_demand(kind))
    # Then playback starts, and the clock advances
    wait_playing(page)
    before = current_time(page)
    time.sleep(1.0)
    assert current_time(page) - before > 0.5
    # And the picture presented while playing is the frame its media time names (time 0 is the range's start)
    shot = grab(page, presented=True)
    assert abs(shot.frame - (FIRST_S * FPS + shot.time * FPS)) <= 1.5, shot
    # And after seeks, including to the last frame, the picture is exactly the frame of the time sought
    for seconds in (0.0, 3.5, 7.02, 11.98):
        assert seek(page, seconds).frame == FIRST_S * FPS + int(seconds * FPS), seconds


@pytest.mark.parametrize("kind", PLAYERS)
def test_live_plays_what_the_camera_filmed_seconds_ago(live, origin, page, kind) -> None:
    url, start_ms = live
    # Given a page of another origin playing a LIVE session while the camera streams in
    start_player(page, origin, url, kind, {"StreamName": "door", "PlaybackMode": "LIVE"})
    wait_playing(page)
    # Then the clock advances, and later pictures are later frames
    first = grab(page, presented=True)
    time.sleep(2.5)
    later = grab(page, presented=True)
    assert later.time - first.time > 1.5 and later.frame - first.frame > 1.5 * FPS, (first, later)
    # And what is on screen was filmed a few seconds before it was shown: the player's live delay, not the past
    assert later.shown_at_ms is not None
    behind_ms = later.shown_at_ms - (start_ms + later.frame * 1000 / FPS)
    assert 0 < behind_ms < 8000, behind_ms
