"""GetMediaForFragmentList: the listed fragments, in the order asked, as one Matroska stream KVS's parsers read.

Each fragment is its own Matroska file (``media.fragment_tags``) with KVS's fragment number, server and producer
timestamp tags. Every number must name a retained fragment of the stream, or nothing is answered
(ResourceNotFoundException naming the numbers); the answer is whole or refused, at most ``max_bytes``.
"""

from __future__ import annotations

import logging

from stillframe.catalog.fragments import FragmentIndex
from stillframe.catalog.keys import FragmentRecord
from stillframe.catalog.streams import StreamCatalog
from stillframe.domain.media_requests import GetMediaForFragmentListRequest
from stillframe.errors import InvalidArgumentError, MediaError, ResourceNotFoundError

logger = logging.getLogger(__name__)

CONTENT_TYPE = "video/webm"  # what KVS answers GetMedia and GetMediaForFragmentList with
_NAMED_MISSING = 5  # numbers quoted in the refusal


def get_media_for_fragment_list(
    request: GetMediaForFragmentListRequest,
    *,
    streams: StreamCatalog,
    fragments: FragmentIndex,
    now_ms: int,
    max_bytes: int,
) -> bytes:
    """The Matroska bytes of the listed fragments."""
    stream = streams.find(request.stream.stream_name, request.stream.arn)
    wanted = list(dict.fromkeys(request.fragments))
    found = fragments.by_numbers(stream.media_id, wanted)
    missing = [n for n, record in found.items() if record is None or not stream.retains(record, now_ms=now_ms)]
    if missing:
        named = ", ".join(missing[:_NAMED_MISSING]) + (", ..." if len(missing) > _NAMED_MISSING else "")
        raise ResourceNotFoundError(
            f"{len(missing)} of the requested fragments are not in stream {stream.name} (or no longer retained): "
            + named
        )
    records = [record for record in (found[n] for n in request.fragments) if record is not None]
    total = sum(record.size for record in records)
    if total > max_bytes:
        raise InvalidArgumentError(
            f"The fragments hold {total:,} bytes, over the {max_bytes:,} bytes this endpoint answers with: "
            "ask for fewer fragments per request"
        )
    parts = [tagged_media(fragments, record) for record in records]
    media = b"".join(parts)
    if len(media) > max_bytes:
        raise InvalidArgumentError(
            f"The answer would be {len(media):,} bytes, over the {max_bytes:,} bytes this endpoint answers with: "
            "ask for fewer fragments per request"
        )
    logger.info("fragments served", extra={"stream": stream.name, "fragments": len(records), "bytes": len(media)})
    return media


def tagged_media(fragments: FragmentIndex, record: FragmentRecord) -> bytes:
    """The stored fragment as KVS sends it out: one Matroska file with its number and timestamps as tags."""
    from stillframe.media.fragment_tags import kvs_tags, tagged_fragment  # PyAV: not at cold start

    try:
        return tagged_fragment(
            fragments.blob(record), kvs_tags(record.number, record.server_ms, record.producer_ms), record.producer_ms
        )
    except MediaError as exc:
        raise InvalidArgumentError(f"fragment {record.number} cannot be read: {exc}") from exc
