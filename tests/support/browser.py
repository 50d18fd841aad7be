"""What the viewer's browser tests share: Debian's Chromium as Playwright launches it, the page script that records
Content-Security-Policy violations, and screenshots kept for a person to look at."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"
WAIT_MS = 20_000

# Every violation of the viewer's Content-Security-Policy, as the page sees them (an inline script or style, a
# foreign fetch): the viewer must run under its own strict policy without one.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


def keep_screenshot(page: Any, tmp_path: Path, name: str) -> None:
    """A screenshot under the test's tmp dir and in the git-ignored test-artifacts/."""
    shot = tmp_path / name
    page.screenshot(path=str(shot))
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(shot, ARTIFACTS / name)
