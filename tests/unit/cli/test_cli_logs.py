"""CLI logging goes to the stderr of the moment, so a thread that logs late never writes to a closed stream."""

from __future__ import annotations

import io
import logging
import sys

import pytest

from stillframe.cli.logs import configure_logging


def test_records_go_to_the_current_stderr_even_after_the_old_one_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given CLI logging configured while stderr was one stream, which is then closed and replaced
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    configure_logging("INFO")
    first.close()
    second = io.StringIO()
    monkeypatch.setattr(sys, "stderr", second)
    # When the server logs a request
    logging.getLogger("stillframe.server").info("request", extra={"operation": "GetImages", "status": 200})
    # Then the line reaches the current stderr, with its fields, and no logging error is raised or printed
    assert "request operation=GetImages status=200" in second.getvalue()
