"""What an authenticated key may do: which operations (read-only keys) and which streams (prefix-limited keys).

Both rules read the operation table (``stillframe.domain.operations``) and the *validated* request, never the raw
body: the streams a request acts on are the ones its model resolves (``request.streams_named()``), so no second
reading of the body can disagree with what the operation will do.

- ``admit_operation`` runs before the request is resolved (the route path alone settles it): a read-only key may
  call only the operations whose row says ``read_only``; a path that is no operation is not read-only.
- ``admit_streams`` runs once the request is validated: every stream it names must fall under one of the key's
  prefixes, and an operation that acts on a stream must name one.
- ListStreams names no stream: a prefix-limited key may call it and its listing holds only the key's streams
  (``visible``, applied inside the paging, so pages stay full and tokens right).
"""

from __future__ import annotations

from collections.abc import Callable

from stillframe.access.keystore import AccessKey
from stillframe.domain.operations import OPERATIONS, OperationSpec
from stillframe.domain.shapes import WireModel
from stillframe.errors import NotAuthorizedError

READ_ONLY_OPERATIONS = tuple(sorted(spec.name for spec in OPERATIONS if spec.read_only))


def admit_operation(key: AccessKey, operation: OperationSpec | None) -> None:
    """Return if ``key`` may call ``operation`` (None: a path that is no operation); NotAuthorizedError if not."""
    if key.read_only and (operation is None or not operation.read_only):
        what = operation.name if operation is not None else "this request"
        raise NotAuthorizedError(
            f"Access key {key.access_key_id} is read-only: it may call {', '.join(READ_ONLY_OPERATIONS)}, not {what}."
        )


def admit_streams(key: AccessKey, operation: OperationSpec, request: WireModel) -> None:
    """Return if ``key`` covers every stream the validated ``request`` acts on; NotAuthorizedError if not."""
    if key.stream_prefixes is None:
        return
    streams = request.streams_named()
    if operation.per_stream and not streams:
        raise NotAuthorizedError(
            f"Access key {key.access_key_id} is limited to some streams, and this request does not say "
            "which stream it is for."
        )
    for stream in streams:
        if not key.covers_stream(stream):
            raise NotAuthorizedError(
                f"Access key {key.access_key_id} may not use stream {stream!r}: it is limited to streams "
                f"starting with {', '.join(repr(p) for p in key.stream_prefixes)}."
            )


def visible(key: AccessKey | None) -> Callable[[str], bool] | None:
    """Which stream names a listing may show the caller: None when it may show every one."""
    if key is None or key.stream_prefixes is None:
        return None
    return key.covers_stream
