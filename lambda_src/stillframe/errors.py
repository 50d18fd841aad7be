"""The typed error hierarchy: every error a client can see, with its AWS name and HTTP status.

The status each answers with is on its type. They become the AWS error shape in one place
(``stillframe.api.errors``), for the resolver, the handler's fallback and serve's own refusals alike;
everything below raises them and never builds HTTP responses itself.
"""

from __future__ import annotations


class StillframeError(Exception):
    """An error with a stable AWS error name, an HTTP status and a human sentence."""

    code: str = "InternalFailure"
    status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgumentError(StillframeError):
    code = "InvalidArgumentException"
    status = 400


class ValidationError(StillframeError):
    code = "ValidationException"
    status = 400


class ResourceNotFoundError(StillframeError):
    code = "ResourceNotFoundException"
    status = 404


class UnknownOperationError(StillframeError):
    """A path or method that is no operation: not ResourceNotFoundException, which clients read as "no such
    stream" and may carry on from (the AWS services answer unknown operations with this type)."""

    code = "UnknownOperationException"
    status = 404


class ResourceInUseError(StillframeError):
    code = "ResourceInUseException"
    status = 400


class NoDataRetentionError(StillframeError):
    code = "NoDataRetentionException"
    status = 400


class VersionMismatchError(StillframeError):
    code = "VersionMismatchException"
    status = 400


class ClientLimitExceededError(StillframeError):
    code = "ClientLimitExceededException"
    status = 400


class TagsPerResourceExceededLimitError(StillframeError):
    code = "TagsPerResourceExceededLimitException"
    status = 400


class InvalidResourceFormatError(StillframeError):
    code = "InvalidResourceFormatException"
    status = 400


class MissingCodecPrivateDataError(StillframeError):
    code = "MissingCodecPrivateDataException"
    status = 400


class InvalidCodecPrivateDataError(StillframeError):
    code = "InvalidCodecPrivateDataException"
    status = 400


class UnsupportedStreamMediaTypeError(StillframeError):
    code = "UnsupportedStreamMediaTypeException"
    status = 400


class InvalidMediaFrameError(StillframeError):
    code = "InvalidMediaFrameException"
    status = 400


class NotAuthorizedError(StillframeError):
    code = "NotAuthorizedException"
    status = 401


class MalformedRequestError(InvalidArgumentError):
    """A request ``stillframe serve`` cannot parse (request line, headers, framing): refused before the handler."""


class RequestLineTooLongError(MalformedRequestError):
    status = 414


class HeadersTooLargeError(MalformedRequestError):
    status = 431


class RequestTooLargeError(InvalidArgumentError):
    """A body over serve's limit, refused before it is read (API Gateway's own limit answers 413 too)."""

    status = 413


class ThrottledError(ClientLimitExceededError):
    """API Gateway's THROTTLED answer, which serve gives for its stage throttle, full request queue and connection cap.

    429, not the modeled 400: boto3 retries a 429 with backoff; the type is still ClientLimitExceededException.
    """

    status = 429


class SessionInterrupted(StillframeError):
    """A streaming PutMedia session whose connection broke or stalled: nothing more can be read or answered."""

    code = "InvalidArgumentException"
    status = 400


class SignatureRefusedError(NotAuthorizedError):
    """API Gateway's answer to a missing, invalid or expired signature, which serve's SigV4 gate gives too.

    403, as API Gateway sends for MISSING_AUTHENTICATION_TOKEN, INVALID_SIGNATURE and EXPIRED_TOKEN
    (``infra/constructs/gateway_responses.py``); the Lambda's own keys auth answers the modeled 401.
    """

    status = 403


class BrowserRefusedError(NotAuthorizedError):
    """serve without authentication refusing what a foreign web page could send: an Origin it does not serve, or a
    Host it does not answer to (DNS rebinding). 403, as a refused signature; the message says how to allow it."""

    status = 403


class UnsupportedContentTypeError(InvalidArgumentError):
    """A JSON operation's body sent with a type that is not JSON, refused by serve without authentication (a form or
    ``text/plain`` is what a foreign page can post without a preflight). 415, as API Gateway's UNSUPPORTED_MEDIA_TYPE.
    """

    status = 415


class MediaError(Exception):
    """Media that cannot be demuxed, decoded or encoded (not an API error by itself)."""


class StorageError(Exception):
    """Base of the object store's own errors."""


class ObjectNotFound(StorageError):
    """The key does not exist."""


class ObjectExists(StorageError):
    """create-if-absent found the key already there."""


class ObjectChanged(StorageError):
    """A conditional write found the object written again (or deleted) since it was read."""


class StoreFullError(StillframeError, StorageError):
    """The store has no space left (disk full or quota): nothing was written.

    ClientLimitExceededException is modeled by every KVS API and boto3 does not retry it, which is right:
    retrying at once cannot succeed, but the same call succeeds once space is freed (DeleteStream works
    on a full disk for exactly that).
    """

    code = "ClientLimitExceededException"
    status = 400


class StoreReadOnlyError(StillframeError, StorageError):
    """The store refuses writes (read-only file system): reads still work.

    503 ServiceUnavailable: boto3 retries it a few times with backoff (a file system remounted read-only
    after an error is often repaired by an operator), then raises it with this message.
    """

    code = "ServiceUnavailableException"
    status = 503
