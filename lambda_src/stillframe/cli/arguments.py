"""Command-line values the commands share: argparse types for positive numbers."""

from __future__ import annotations

import argparse
import math


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
