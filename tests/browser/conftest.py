"""The viewer's browser tests: a serve with the gapped stream (per module), Debian's Chromium, and a page that fails
its test on any violation of the viewer's Content-Security-Policy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, RECORD_VIOLATIONS, WAIT_MS
from tests.support.gapped import GappedStream, ingest_gapped
from tests.support.serve import running_serve


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, clip_factory) -> Iterator[tuple[str, GappedStream]]:
    work = tmp_path_factory.mktemp("viewer")
    with running_serve("--data-dir", str(work / "data")) as (url, _):
        yield url, ingest_gapped(url, "porch", work, clip_factory)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed: `make browser-deps` (make test runs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(RECORD_VIOLATIONS)
    tab = context.new_page()
    tab.set_default_timeout(WAIT_MS)
    console: list[str] = []
    tab.on("console", lambda message: console.append(message.text))
    yield tab
    # Then nothing the viewer did was refused by its Content-Security-Policy
    seen = tab.evaluate("() => window.cspViolations || []")
    context.close()
    assert seen == [] and not [text for text in console if "Content Security Policy" in text], (seen, console)
