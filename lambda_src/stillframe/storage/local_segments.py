"""How the local store names key segments on disk: reversible file names, and pieces for over-long segments.

Segments are stored percent-encoded where the filesystem would misread them:
"%" -> "%25", NUL -> "%00", and a whole segment "." or ".." -> "%2E" / "%2E%2E".
A segment longer than a file name (255 bytes once encoded, e.g. a 256-character stream
name) is cut into pieces of at most 253 bytes: every piece but the last is a directory
named ``<piece>%+`` (no encoded name ends so), the last piece is the file or directory
itself. Listings (``local_listing``) read such a directory as part of its parent, so key order is kept.
"""

from __future__ import annotations

import re

MAX_SEGMENT_BYTES = 255  # NAME_MAX on Linux and macOS filesystems
CONTINUED = "%+"  # suffix of a directory holding the rest of an over-long segment (never made by encode_segment)
_PIECE_BYTES = MAX_SEGMENT_BYTES - len(CONTINUED)
_DECODE = {"25": "%", "00": "\0", "2E": "."}
_ESCAPE = re.compile(r"%(25|00|2E)")


def encode_segment(segment: str) -> str:
    """File name for one key segment (reversible; see the module docstring)."""
    if segment in (".", ".."):
        return "%2E" * len(segment)
    return segment.replace("%", "%25").replace("\0", "%00")


def decode_segment(name: str) -> str:
    """Key segment for one file name written by ``encode_segment``."""
    return _ESCAPE.sub(lambda m: _DECODE[m.group(1)], name) if "%" in name else name


def segment_names(segment: str) -> list[str]:
    """The path components holding one key segment: one file name, or pieces when it is longer than one."""
    name = encode_segment(segment)
    if len(name.encode("utf-8")) <= MAX_SEGMENT_BYTES:
        return [name]
    names, piece, size = [], "", 0
    for char in segment:  # cut between characters, never inside an escape or a UTF-8 sequence
        encoded = encode_segment(char) if char in "%\0" else char
        width = len(encoded.encode("utf-8"))
        if size + width > _PIECE_BYTES:
            names.append(piece + CONTINUED)
            piece, size = "", 0
        piece, size = piece + encoded, size + width
    return [*names, encode_segment(piece) if piece in (".", "..") else piece]
