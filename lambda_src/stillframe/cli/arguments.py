"""Command-line values the commands share: producer times (epoch seconds or ISO-8601), the endpoint URL, the CA
bundle, and argparse types for positive numbers."""

from __future__ import annotations

import argparse
import math
from datetime import UTC, datetime
from urllib.parse import urlsplit

from stillframe.cli.errors import UsageError
from stillframe.client import CA_BUNDLE_ENV, ca_bundle, tls_context

_MAX_EPOCH_S = 1e11  # larger "seconds" are almost surely milliseconds (year 5138)


def positive_float(text: str) -> float:
    """A number more than 0 (not infinity or nan); ArgumentTypeError otherwise."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < math.inf:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be a number more than 0, not {text}")
    return value


def positive_int(text: str) -> int:
    """A whole number of at least 1; ArgumentTypeError otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {text}")
    return value


def parse_producer_start(text: str) -> int:
    """Epoch seconds (fractions allowed) or ISO-8601 -> epoch milliseconds; ArgumentTypeError for junk."""
    try:
        seconds = float(text)
    except ValueError:
        return _iso_ms(text)
    if not math.isfinite(seconds) or seconds < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time after 1970")
    if seconds >= _MAX_EPOCH_S:
        raise argparse.ArgumentTypeError(f"{text!r} looks like milliseconds; give epoch seconds")
    return round(seconds * 1000)


def add_time_range(parser: argparse.ArgumentParser) -> None:
    """``--start`` and ``--end`` (both required), as epoch seconds or ISO-8601, read as epoch ms."""
    parser.add_argument("--start", required=True, type=parse_producer_start, metavar="EPOCH|ISO8601")
    parser.add_argument("--end", required=True, type=parse_producer_start, metavar="EPOCH|ISO8601")


def check_endpoint(url: str) -> str:
    """The endpoint URL without a trailing slash; UsageError unless it is a plain http(s) URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise UsageError(f"--endpoint-url must be an http(s) URL such as http://127.0.0.1:4577, not {url!r}")
    try:
        _ = parts.port
    except ValueError as exc:
        raise UsageError(f"--endpoint-url has a bad port: {url!r}") from exc
    return url.rstrip("/")


def check_ca_bundle(explicit: str | None) -> str | None:
    """The CA bundle to use (``--ca-bundle``, else ``AWS_CA_BUNDLE``); UsageError unless it holds certificates."""
    bundle = ca_bundle(explicit)
    if bundle is None:
        return None
    source = "--ca-bundle" if explicit else CA_BUNDLE_ENV
    try:
        tls_context(bundle)
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        raise UsageError(f"{source} {bundle}: not a readable PEM file of certificates ({exc})") from exc
    return bundle


def _iso_ms(text: str) -> int:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither epoch seconds nor ISO-8601 (e.g. 1714564800.5 or 2024-05-01T12:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    epoch_ms = round(moment.timestamp() * 1000)
    if epoch_ms < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time after 1970")
    return epoch_ms
