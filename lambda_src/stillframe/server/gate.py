"""What API Gateway checks before the Lambda runs, done locally: stage throttling, then SigV4 auth. Both optional.

A refused request gets the error API Gateway's Gateway Responses answer with
(``infra/constructs/gateway_responses.py``), its status on the type: ``ThrottledError`` and ``SignatureRefusedError``
(``stillframe.errors``). boto3 picks the modeled exception from ``x-amzn-ErrorType``, so the status only matters to
retries (429 backs off) and to curl.
Like a method with authorization NONE on API Gateway, GET and HEAD of ``open_paths`` (serve's ``/health`` and the
viewer's static files, which expose nothing) need no signature; throttling still counts them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeAlias
from urllib.parse import unquote

from stillframe.access.sigv4 import SignedRequest, SigV4Verifier
from stillframe.errors import NotAuthorizedError, SignatureRefusedError, ThrottledError
from stillframe.server.throttle import TokenBucket

logger = logging.getLogger("stillframe.server")

Refusal: TypeAlias = ThrottledError | SignatureRefusedError
"""Why a request does not reach the handler: the AWS error to answer with, its status on the type."""


@dataclass(frozen=True)
class RequestGate:
    """The checks a request passes before the handler sees it; ``None`` turns a check off."""

    verifier: SigV4Verifier | None = None
    throttle: TokenBucket | None = None
    open_paths: frozenset[str] = frozenset()

    def needs_signature(self, method: str, target: str) -> bool:
        """False for GET or HEAD of one of ``open_paths`` (matched as the event's decoded path is), else True."""
        return method not in ("GET", "HEAD") or unquote(target.split("?", 1)[0]) not in self.open_paths

    def admit(self, headers: Sequence[tuple[str, str]], *, signed: bool = True) -> Refusal | None:
        """What the headers alone settle, before the body is read: throttling, then the signature's form and date.

        Throttling counts every request, signed or not, as a stage's throttle does; ``signed=False`` (a request
        that ``needs_signature`` not) skips the signature.
        """
        refusal = self._throttled()
        if refusal is None and signed:
            refusal = self._unauthorized(lambda verifier: verifier.precheck(headers))
        return self._logged(refusal)

    def authenticate(self, request: SignedRequest) -> Refusal | None:
        """The signature itself, over the body as received (None without a verifier)."""
        return self._logged(self._unauthorized(lambda verifier: verifier.verify(request)))

    def check(self, request: SignedRequest) -> Refusal | None:
        """Both checks in order: None when ``request`` may go on to the handler, else the refusal to send."""
        return self.admit(request.headers) or self.authenticate(request)

    @staticmethod
    def _logged(refusal: Refusal | None) -> Refusal | None:
        if refusal is not None:
            logger.debug("request refused", extra={"error": refusal.code, "reason": refusal.message})
        return refusal

    def _throttled(self) -> Refusal | None:
        if self.throttle is None or self.throttle.take():
            return None
        message = f"Too Many Requests: this server allows {self.throttle}."
        return ThrottledError(message)

    def _unauthorized(self, check: Callable[[SigV4Verifier], object]) -> Refusal | None:
        if self.verifier is None:
            return None
        try:
            check(self.verifier)
        except NotAuthorizedError as exc:
            return SignatureRefusedError(exc.message)
        return None
