"""The typed error hierarchy: every error a client can see, with its AWS name and HTTP status.

The API layer maps these to the AWS error shape in one place (``stillframe.api.errors``);
everything below it raises them and never builds HTTP responses itself.
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


class NotAuthorizedError(StillframeError):
    code = "NotAuthorizedException"
    status = 401


class MediaError(Exception):
    """Media that cannot be demuxed, decoded or encoded (not an API error by itself)."""


class StorageError(Exception):
    """Base of the object store's own errors."""


class ObjectNotFound(StorageError):
    """The key does not exist."""


class ObjectExists(StorageError):
    """create-if-absent found the key already there."""


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
