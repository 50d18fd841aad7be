"""The viewer plays video (issue 22), in real headless Chromium, from `stillframe serve`'s HLS sessions.

The gapped stream (tests.support.gapped) has frames 0..149 at T0..T0+6 s and 1000..1099 at T0+20..T0+24 s; the live
one is fed in real time by an emulated producer while the viewer follows it. What the tests read is what a user
sees: the frame in the <video>, drawn onto a canvas and decoded by the number painted into every synthetic frame,
and the wall-clock time the viewer shows for it; the page fixture fails a test on any CSP violation.
"""

from __future__ import annotations

import base64
import itertools
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import keep_screenshot
from tests.support.producer import EmulatedProducer, sdk_stream, session_clients
from tests.support.serve import put_media_cli
from tests.support.synth import read_frame_number

pytestmark = pytest.mark.browser

FPS = 25
FRAME_MS = 1000 // FPS
# The video has played a little and plays on, and the viewer shows a time at or after `ms` for the frame on screen.
PLAYING_AT = """(ms) => {
  const video = document.getElementById("video");
  const played = video.played.length ? video.played.end(video.played.length - 1) - video.played.start(0) : 0;
  return !video.paused && played > 0.1 && Number(document.getElementById("still-time").dataset.t) >= ms;
}"""
# Pause the video, let the viewer show the paused frame's time, and return that frame as a PNG data URL.
GRAB_FRAME = """async () => {
  const video = document.getElementById("video");
  video.pause();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  return canvas.toDataURL("image/png");
}"""


def paused_frame(page: Any) -> tuple[int, int]:
    """Pause the video; return (the frame number in its picture, the epoch ms the viewer shows for it)."""
    picture = page.evaluate(GRAB_FRAME)
    shown = page.locator("#still-time")
    at_ms = int(shown.get_attribute("data-t"))
    clock = datetime.fromtimestamp(at_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"
    assert shown.inner_text() == clock
    return read_frame_number(base64.b64decode(picture.split(",", 1)[1])), at_ms


def choose_still(page: Any, at_ms: int) -> None:
    page.locator(f'#filmstrip .thumb[data-t="{at_ms}"]').click()
    page.locator(f'#still-image[data-t="{at_ms}"]').wait_for(state="attached")


def test_play_shows_the_video_from_the_chosen_time_on(site, page, tmp_path: Path) -> None:
    url, stream = site
    # Given the viewer on the gapped stream, the still at T0+3 s chosen
    page.goto(f"{url}/#stream=porch")
    choose_still(page, stream.start_ms + 3000)
    # When the user presses Play
    page.locator("#play").click()
    # Then the video plays from there (in the 2 s fragment from T0+2 s, a second into it)
    page.wait_for_function(PLAYING_AT, arg=stream.start_ms)
    started_ms = int(page.locator("#still-time").get_attribute("data-t"))
    assert stream.start_ms + 3000 <= started_ms < stream.start_ms + 3500, started_ms
    assert page.locator("#video").is_visible() and page.locator("#still-image").is_hidden()
    # And a second later the frame on screen is the one the shown time names
    page.wait_for_function(PLAYING_AT, arg=stream.start_ms + 4000)
    frame, at_ms = paused_frame(page)
    assert stream.start_ms + 4000 <= at_ms < stream.gap_start_ms
    expected = stream.frame_at(at_ms)
    assert expected is not None and abs(frame - expected) <= 1, (frame, at_ms)
    keep_screenshot(page, tmp_path, "viewer-playing.png")
    # When the user steps to the next still, the video stops and the still is on the step grid after it
    page.keyboard.press("ArrowRight")
    page.locator("#still-image").wait_for(state="visible")
    assert page.locator("#video").is_hidden() and page.locator("#play").inner_text() == "Play"
    assert int(page.locator("#still-image").get_attribute("data-t")) == (at_ms // 1000 + 1) * 1000


def test_play_runs_on_across_the_gap_to_the_next_range(site, page) -> None:
    url, stream = site
    # Given Play from the last second before the 14 s gap
    page.goto(f"{url}/#stream=porch")
    choose_still(page, stream.gap_start_ms - 1000)
    page.locator("#play").click()
    # Then playback crosses the gap: the video shows the second clip's frames and the viewer their own times
    page.wait_for_function(PLAYING_AT, arg=stream.gap_end_ms + 500)
    frame, at_ms = paused_frame(page)
    assert stream.gap_end_ms <= at_ms < stream.end_ms, at_ms
    expected = stream.frame_at(at_ms)
    assert expected is not None and expected >= 1000 and abs(frame - expected) <= 1, (frame, at_ms)


def test_the_audio_rendition_plays_with_the_video(site, page, clip_factory, tmp_path: Path) -> None:
    url, stream = site
    # Given a stream whose fragments carry an AAC track beside the video
    clip = tmp_path / "sound.mkv"
    clip.write_bytes(clip_factory(seconds=4, fps=FPS, gop=FPS, audio=True))
    put_media_cli(url, "with-sound", str(clip), "--producer-start-time", str(stream.start_ms / 1000))
    page.goto(f"{url}/#stream=with-sound")
    choose_still(page, stream.start_ms)
    # When it is played
    page.locator("#play").click()
    page.wait_for_function(PLAYING_AT, arg=stream.start_ms + 1500)
    # Then Chromium decoded its sound (hls.js played the master playlist's audio rendition) and the right frames
    assert page.evaluate("() => document.getElementById('video').webkitAudioDecodedByteCount") > 0
    frame, at_ms = paused_frame(page)
    assert abs(frame - (at_ms - stream.start_ms) // FRAME_MS) <= 1, (frame, at_ms)


def test_playing_where_no_fragments_are_says_why(site, page) -> None:
    url, stream = site
    # Given the viewer on the stream, the cursor past its end (a click at the timeline's right edge)
    page.goto(f"{url}/#stream=porch")
    page.locator(f'#still-image[data-t="{stream.start_ms}"]').wait_for(state="attached")
    box = page.locator("#timeline").bounding_box()
    page.mouse.click(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
    # When the user presses Play
    page.locator("#play").click()
    # Then the server's refusal is shown as the viewer shows its other errors, and the stills stay on screen
    status = page.locator("#status")
    status.filter(has_text="getHLSStreamingSessionURL").wait_for()
    assert status.inner_text().startswith("getHLSStreamingSessionURL: ResourceNotFoundException: "), status.inner_text()
    assert page.locator("#video").is_hidden() and page.locator("#play").inner_text() == "Play"


LIVE_SECONDS, LIVE_FIRST_FRAME = 15, 3000
LIVE_STREAMS = itertools.count()


@pytest.fixture
def live_feed(site, clip_factory) -> Iterator[tuple[str, int]]:
    """A stream fed in real time from now on, one 1 s fragment a second; yields (name, its first frame's ms)."""
    url, _ = site
    name = f"live-feed-{next(LIVE_STREAMS)}"
    session_clients(url)[0].create_stream(StreamName=name, DataRetentionInHours=1)
    clip = clip_factory(seconds=LIVE_SECONDS, fps=FPS, gop=FPS, start_number=LIVE_FIRST_FRAME)
    start_ms = int(time.time() * 1000)
    media = sdk_stream(clip, start_ms=start_ms)
    producer = EmulatedProducer(url, name)
    failures: list[BaseException] = []

    def feed() -> None:
        try:
            producer.run(media, pace_s=1.0)
        except BaseException as exc:  # reported by the test, not lost in the thread
            failures.append(exc)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    yield name, start_ms
    feeder.join(timeout=60)
    assert not failures, failures


def test_follow_live_plays_the_live_video_as_it_arrives(site, page, live_feed) -> None:
    url, _ = site
    name, start_ms = live_feed
    # Given the viewer on a stream a producer is feeding now, once a few fragments are in
    page.goto(f"{url}/#stream={name}")
    page.locator("#timeline .covered").wait_for()
    time.sleep(3)
    # When the user follows it live
    page.locator("#follow").check()
    # Then the live video plays on: the frame on screen is the one its shown time names, seconds behind now
    page.wait_for_function(PLAYING_AT, arg=start_ms)
    first_ms = int(page.locator("#still-time").get_attribute("data-t"))
    page.wait_for_function(PLAYING_AT, arg=first_ms + 1000)
    frame, at_ms = paused_frame(page)
    assert start_ms <= at_ms <= time.time() * 1000, at_ms
    assert abs(frame - (LIVE_FIRST_FRAME + (at_ms - start_ms) // FRAME_MS)) <= 1, (frame, at_ms)
    # And the timeline keeps growing while it plays
    page.evaluate("() => document.getElementById('video').play()")
    newest = "() => Number([...document.querySelectorAll('#timeline .covered')].pop().dataset.end)"
    before = page.evaluate(newest)
    page.wait_for_function(f"(before) => ({newest})() > before", arg=before)
    # When following is turned off, the video stops and the still at the cursor is shown
    page.locator("#follow").uncheck()
    page.locator("#still-image").wait_for(state="visible")
    assert page.locator("#video").is_hidden()


def test_play_from_a_moment_ago_runs_on_into_video_that_arrives_while_it_plays(site, page, live_feed) -> None:
    url, _ = site
    name, start_ms = live_feed
    # Given the viewer on a stream a producer is feeding now (not following it), its first still chosen
    page.goto(f"{url}/#stream={name}")
    page.locator("#timeline .covered").wait_for()
    choose_still(page, start_ms)
    # When the user presses Play
    newest = "() => Number([...document.querySelectorAll('#timeline .covered')].pop().dataset.end)"
    arrived_ms = page.evaluate(newest)
    page.locator("#play").click()
    # Then the video plays from there on, past what had arrived when Play was pressed (the session takes what comes)
    page.wait_for_function(PLAYING_AT, arg=start_ms)
    assert int(page.locator("#still-time").get_attribute("data-t")) < start_ms + 1000
    page.wait_for_function(PLAYING_AT, arg=arrived_ms + 1000, timeout=30_000)
    frame, at_ms = paused_frame(page)
    assert abs(frame - (LIVE_FIRST_FRAME + (at_ms - start_ms) // FRAME_MS)) <= 1, (frame, at_ms)
