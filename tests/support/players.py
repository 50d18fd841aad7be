"""Real players (hls.js, dash.js) in headless Chromium, playing a `stillframe serve` session from another origin.

The player page (``tests/browser/js/player.html``) and the npm builds beside it are served by a second small HTTP
server on another loopback port, so every call the page makes to serve is cross-origin, as a web app's would be: the
session URL is asked for with ``fetch`` (a JSON POST, preflighted), then the player GETs the playlists or manifest and
the segments. What a test reads is what a viewer sees: the picture on the <video>, drawn into a canvas and decoded
with ``read_frame_number``.
"""

from __future__ import annotations

import base64
import functools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.synth import read_frame_number

PAGE_DIR = Path(__file__).resolve().parent.parent / "browser" / "js"
# Players start without a click: the page under test plays as soon as the session URL is known.
PLAYER_ARGS = [*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"]


def players_installed() -> str | None:
    """Why the players cannot run here (a missing Chromium or npm install), or None."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is not installed: `make browser-deps` (make test runs it)"
    if not (PAGE_DIR / "node_modules" / ".installed").exists() and not (PAGE_DIR / "node_modules" / "hls.js").exists():
        return "hls.js and dash.js are not installed: `make tests/browser/js/node_modules/.installed` (make test does)"
    return None


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def page_server() -> Iterator[str]:
    """Serve the player page and the players on a loopback port of its own; yields its origin."""
    handler = functools.partial(_QuietHandler, directory=str(PAGE_DIR))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class Shot:
    """A picture grabbed from the <video>: its media time (s), the frame number painted in it, when it was shown."""

    time: float
    frame: int
    shown_at_ms: float | None = None


def start_player(
    page: Any, origin: str, endpoint: str, kind: str, body: dict[str, Any], settings: dict[str, Any] | None = None
) -> None:
    """Open the player page and start ``kind`` (hls or dash) on the session that ``body`` asks serve for.

    ``settings``: the player's own (an hls.js config, dash.js settings); its defaults without."""
    page.goto(f"{origin}/player.html")
    page.evaluate(
        "([endpoint, kind, body, settings]) => window.start(endpoint, kind, body, settings)",
        [endpoint, kind, body, settings or {}],
    )


def player_state(page: Any) -> dict[str, Any]:
    return dict(page.evaluate("() => window.playerState"))


def wait_playing(page: Any, timeout_s: float = 20.0) -> dict[str, Any]:
    """Wait for the first ``playing`` and a first presented frame; the page's marks (ms). Fails on a player error."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = player_state(page)
        assert not state["errors"], state["errors"]
        if "playing" in state["marks"] and "frame" in state["marks"]:
            return state
        time.sleep(0.05)
    raise AssertionError(f"no playback within {timeout_s} s: {player_state(page)}")


def current_time(page: Any) -> float:
    return float(page.evaluate("() => document.getElementById('video').currentTime"))


def grab(page: Any, *, presented: bool = False) -> Shot:
    """The picture on screen now (``presented``: the next one the player presents, with the time it was shown)."""
    shot = page.evaluate("() => window.grabPresented()" if presented else "() => window.grab()")
    png = base64.b64decode(shot["png"].split(",", 1)[1])
    return Shot(float(shot["time"]), read_frame_number(png), shot.get("shownAt"))


def seek(page: Any, seconds: float) -> Shot:
    """Pause, seek to ``seconds`` and grab the picture once the seek is done."""
    page.evaluate(
        """(t) => new Promise((resolve) => {
             const video = document.getElementById('video');
             video.pause();
             video.addEventListener('seeked', () => resolve(), { once: true });
             video.currentTime = t;
           })""",
        seconds,
    )
    return grab(page)


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (its own browser download cannot work here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=PLAYER_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def live_source(url: str, stream: str, *, seconds: int = 40, fps: int = 25) -> Iterator[int]:
    """A camera streaming into ``stream`` (created here) as it films: one 1 s fragment a second, each sent when its
    last frame has been filmed, with frame N at producer time ``start_ms + N * 1000 / fps``. Yields ``start_ms``."""
    from tests.support.producer import EmulatedProducer, sdk_stream, session_clients
    from tests.support.synth import make_clip

    session_clients(url)[0].create_stream(StreamName=stream, DataRetentionInHours=1)
    clip = make_clip(seconds=seconds, fps=fps, gop=fps, width=640, height=360)
    start_ms = int(time.time() * 1000) - 1000  # the first second is filmed: it goes out now
    producer = EmulatedProducer(url, stream)
    sender = threading.Thread(
        target=producer.run, args=(sdk_stream(clip, start_ms=start_ms),), kwargs={"pace_s": 1.0}, daemon=True
    )
    sender.start()
    try:
        yield start_ms
    finally:
        sender.join(timeout=seconds + 30)
