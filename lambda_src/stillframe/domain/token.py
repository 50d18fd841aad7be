"""NextToken: opaque to clients, authenticated by the server, bound to one request's parameters.

A token is standard base64 (with padding) of ``version | cursor | mac`` where
``mac = HMAC-SHA256(secret, version | len(binding) | binding | cursor)[:16]``. The cursor (where the
next page starts) travels in the token, so the service keeps no pagination state; the binding
(``request.binding()``, every parameter but NextToken) never travels, so a token decodes only
with the parameters that produced it. Tokens fit GetImages' and ListFragments' limits
(``[a-zA-Z0-9+/]+={0,2}``, at most 4096 characters) and, for cursors up to ~750 bytes, ListStreams'
1024 characters.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re

from stillframe.errors import InvalidArgumentError

TOKEN_VERSION = 1
MAC_BYTES = 16  # 128-bit tag: forging one is out of reach, and tokens stay short
MAX_TOKEN_CHARS = 4096
_TOKEN_PATTERN = re.compile(r"[a-zA-Z0-9+/]+={0,2}", re.ASCII)

MAX_CONTINUATION_CHARS = 128  # GetMedia's ContinuationToken: [a-zA-Z0-9_.-]{1,128}
_TO_CONTINUATION = str.maketrans("+/=", "-_.")
_FROM_CONTINUATION = str.maketrans("-_.", "+/=")
MALFORMED_CONTINUATION = (
    "StartSelector.ContinuationToken is not a token this service issued for this stream: "
    "use the AWS_KINESISVIDEO_CONTINUATION_TOKEN tag of a GetMedia answer of the same stream"
)
MALFORMED = "NextToken is malformed: it is not a token issued by this service"
FOREIGN = "NextToken does not belong to this request: it was altered, or issued for a request with other parameters"


def for_stream(binding: bytes, stream_arn: str) -> bytes:
    """``binding`` tied to one stream's incarnation: its ARN carries the creation time, so a token issued for a
    stream does not work on another stream created later under the same name."""
    return binding + b"\n" + stream_arn.encode("utf-8")


class TokenCodec:
    """Encodes cursors into NextTokens and decodes them back, rejecting anything not issued for this request."""

    def __init__(self, secret: bytes) -> None:
        if not secret:
            raise ValueError("the NextToken secret must not be empty")
        self._secret = secret

    def encode(self, binding: bytes, cursor: str) -> str:
        """The NextToken for ``cursor`` in the request whose ``binding()`` is ``binding``."""
        body = bytes([TOKEN_VERSION]) + cursor.encode("utf-8")
        token = base64.b64encode(body + self._mac(body, binding)).decode("ascii")
        if len(token) > MAX_TOKEN_CHARS:
            raise ValueError(f"cursor too long for a NextToken ({len(cursor)} characters)")
        return token

    def decode(self, token: str, binding: bytes) -> str:
        """The cursor inside ``token``; InvalidArgumentError unless this codec issued it for ``binding``."""
        raw = _unwrap(token)
        body, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
        if not hmac.compare_digest(mac, self._mac(body, binding)):
            raise InvalidArgumentError(FOREIGN)
        try:
            return body[1:].decode("utf-8")
        except UnicodeDecodeError as exc:  # authentic, so only a bug could get here
            raise InvalidArgumentError(MALFORMED) from exc

    def encode_continuation(self, binding: bytes, cursor: str) -> str:
        """A token in GetMedia's ContinuationToken alphabet (``[a-zA-Z0-9_.-]``, at most 128 characters)."""
        token = self.encode(binding, cursor).translate(_TO_CONTINUATION)
        if len(token) > MAX_CONTINUATION_CHARS:
            raise ValueError(f"cursor too long for a ContinuationToken ({len(cursor)} characters)")
        return token

    def decode_continuation(self, token: str, binding: bytes) -> str:
        """The cursor of a token from ``encode_continuation``; InvalidArgumentError unless issued for ``binding``."""
        if any(char in token for char in "+/="):
            raise InvalidArgumentError(MALFORMED_CONTINUATION)
        try:
            return self.decode(token.translate(_FROM_CONTINUATION), binding)
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(MALFORMED_CONTINUATION) from exc

    def _mac(self, body: bytes, binding: bytes) -> bytes:
        # The binding's length goes first so no (binding, cursor) pair can pose as another.
        version, cursor = body[:1], body[1:]
        message = version + len(binding).to_bytes(8, "big") + binding + cursor
        return hmac.new(self._secret, message, hashlib.sha256).digest()[:MAC_BYTES]


def _unwrap(token: object) -> bytes:
    """The token's bytes if it is canonical base64 of a current-version token; else InvalidArgumentError."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or not _TOKEN_PATTERN.fullmatch(token):
        raise InvalidArgumentError(MALFORMED)
    try:
        raw = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidArgumentError(MALFORMED) from exc
    # Several spellings can decode to the same bytes (unused low bits); only ours is accepted.
    if base64.b64encode(raw).decode("ascii") != token:
        raise InvalidArgumentError(MALFORMED)
    if len(raw) < 1 + MAC_BYTES or raw[0] != TOKEN_VERSION:
        raise InvalidArgumentError(MALFORMED)
    return raw
