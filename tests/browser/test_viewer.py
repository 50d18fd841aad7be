"""The viewer `stillframe serve` answers at `/`, in real headless Chromium (Debian's, driven by Playwright).

The stream has video at T0..T0+6 s and T0+20..T0+24 s (tests.support.gapped). What the tests read is what a user
sees: the timeline's covered ranges and gap, and the still on screen, decoded from the <img>'s own data URL and
checked by the frame number drawn into every synthetic frame. A screenshot is kept under the test's tmp dir and in
the git-ignored test-artifacts/.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import T0
from tests.support.browser import keep_screenshot
from tests.support.serve import put_media_cli
from tests.support.synth import read_frame_number

pytestmark = pytest.mark.browser


def shown_frame(page: Any, at_ms: int) -> int:
    """Wait until the still for ``at_ms`` is on screen; return the frame number read out of the <img>'s data."""
    image = page.locator(f'#still-image[data-t="{at_ms}"]')
    image.wait_for(state="attached")
    source = image.get_attribute("src")
    assert source and source.startswith("data:image/jpeg;base64,")
    return read_frame_number(base64.b64decode(source.split(",", 1)[1]))


def test_timeline_shows_the_gap_and_stepping_shows_the_right_frames(site, page, tmp_path: Path) -> None:
    url, stream = site
    # Given the viewer opened on the stream
    page.goto(f"{url}/#stream=porch")
    # Then the timeline shows two covered ranges with the 14 s gap between them, where the video stops and restarts
    page.locator("#timeline .gap").wait_for()
    covered = page.locator("#timeline .covered")
    assert covered.count() == 2
    gap = page.locator("#timeline .gap")
    assert gap.count() == 1
    assert (int(gap.get_attribute("data-start")), int(gap.get_attribute("data-end"))) == (
        stream.gap_start_ms,
        stream.gap_end_ms,
    )
    assert gap.get_attribute("title").startswith("gap of 14.0 s: 2026-11-25 10:00:06.000Z")
    assert "10.0 s of video in 2 ranges, 1 gap, " in page.locator("#coverage-label").inner_text()
    # And the first still is the first frame
    assert shown_frame(page, stream.start_ms) == 0
    # When stepping right three times at 1 s
    for step in (1, 2, 3):
        page.keyboard.press("ArrowRight")
        assert shown_frame(page, stream.start_ms + step * 1000) == step * 25
    # And clicking the filmstrip's first thumbnail after the gap
    after_gap = page.locator(f'#filmstrip .thumb[data-t="{stream.gap_end_ms}"]')
    after_gap.click()
    # Then the still is the second clip's first frame, offered for download under its time
    assert shown_frame(page, stream.gap_end_ms) == 1000
    download = page.locator("#download")
    assert download.get_attribute("download") == "2026-11-25T10-00-20.000Z.jpg"
    assert download.get_attribute("href") == page.locator("#still-image").get_attribute("src")
    keep_screenshot(page, tmp_path, "viewer.png")
    # And stepping back into the gap says there is no video there
    page.keyboard.press("ArrowLeft")
    page.locator(f'#still-image[data-t="{stream.gap_end_ms - 1000}"]').wait_for(state="attached")
    assert page.locator("#still-error").inner_text() == "NO_MEDIA: no video at this time"
    assert download.is_hidden() and page.locator("#still-image").is_hidden()


def test_filmstrip_thumbnails_load_small_and_show_their_frames(site, page) -> None:
    url, stream = site
    page.goto(f"{url}/#stream=porch")
    first = page.locator(f'#filmstrip .thumb[data-t="{stream.start_ms}"]')
    first.locator("xpath=self::*[@data-loaded]").wait_for()
    thumbs = page.locator("#filmstrip .thumb")
    # One thumbnail per second of video (6 + 4), with a gap marker between the two ranges
    assert thumbs.count() == 10
    assert page.locator("#filmstrip .gap-marker").inner_text() == "gap 14.0 s"
    source = first.locator("img").get_attribute("src")
    picture = base64.b64decode(source.split(",", 1)[1])
    assert read_frame_number(picture) == 0
    assert page.evaluate("() => document.querySelector('#filmstrip .thumb img').naturalHeight") == 72


def test_timeline_zooms_from_days_to_seconds(site, page) -> None:
    url, _ = site
    page.goto(f"{url}/#stream=porch")
    page.locator("#timeline .gap").wait_for()
    label = page.locator("#view-label")

    def span_ms() -> int:
        return int(label.get_attribute("data-span"))

    fitted = span_ms()
    assert 24_000 < fitted < 26_000  # the 24 s of the stream with a margin
    for _ in range(18):
        page.locator("#zoom-out").click()
    assert span_ms() > 3 * 86_400_000 and "days" in label.inner_text()
    for _ in range(40):
        page.locator("#zoom-in").click()
    assert span_ms() == 2000 and "(2.000 s)" in label.inner_text()


# A browser without Media Source Extensions, where hls.js (and so the viewer's video) cannot play.
WITHOUT_MSE = "delete window.MediaSource; delete window.ManagedMediaSource;"


def test_without_video_playback_follow_live_shows_the_newest_still(site, page, clip_factory, tmp_path: Path) -> None:
    url, _ = site
    # Given a stream with 4 s of video, followed live in a browser that cannot play video
    first = tmp_path / "first.mkv"
    first.write_bytes(clip_factory(seconds=4, fps=25, gop=25))
    put_media_cli(url, "live-cam", str(first), "--producer-start-time", str(T0 + 100))
    page.context.add_init_script(WITHOUT_MSE)
    page.goto(f"{url}/#stream=live-cam")
    page.locator("#timeline .covered").wait_for()
    # Then the viewer says so, and following live falls back to stills
    assert "cannot play video" in page.locator("#video-note").inner_text()
    page.locator("#follow").check()
    end_ms = (T0 + 104) * 1000
    assert shown_frame(page, end_ms - 1) == 99
    # When 2 more seconds arrive after a 6 s hole
    second = tmp_path / "second.mkv"
    second.write_bytes(clip_factory(seconds=2, fps=25, gop=25, start_number=500))
    put_media_cli(url, "live-cam", str(second), "--producer-start-time", str(T0 + 110))
    # Then, within a poll, the timeline shows the new range and the still is its newest frame
    assert shown_frame(page, (T0 + 112) * 1000 - 1) == 549
    assert page.locator("#timeline .covered").count() == 2
    started = datetime.fromtimestamp(T0 + 104, UTC).strftime("%Y-%m-%d %H:%M:%S")
    assert page.locator("#timeline .gap").get_attribute("title").startswith(f"gap of 6.000 s: {started}")


def test_another_site_cannot_frame_the_viewer(site, browser: Any) -> None:
    url, _ = site
    context = browser.new_context()
    tab = context.new_page()
    console: list[str] = []
    tab.on("console", lambda message: console.append(message.text))
    # Given a page of another origin that frames the viewer (to trick clicks on its buttons)
    tab.set_content(f'<iframe id="framed" src="{url}/#stream=porch" width="800" height="600"></iframe>')
    # Then the browser refuses to show it there, citing the viewer's policy
    framed = tab.frame_locator("#framed")
    assert framed.locator("#stream").count() == 0
    assert any("frame-ancestors" in text for text in console), console
    context.close()
