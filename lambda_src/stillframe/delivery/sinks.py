"""Where images are written: a real S3 bucket (boto3) or, on the embedded store, a directory per bucket.

Embedded store (``STILLFRAME_STORE=local``): ``s3://<bucket>/<key>`` is the file ``<data-dir>/delivered/<bucket>/<key>``
(written to a temporary name, then renamed; over-long key segments are kept as the local store keeps them). The
bucket is one folder whatever it says (encoded as a key segment: ``..`` is ``%2E%2E``), so no configuration, not even
one stored before bucket names were checked, writes outside ``delivered/``.
There is no object metadata on disk: the content type follows from the extension (``.jpg``, ``.png``).
S3 store (AWS, LocalStack, ``serve --bucket``): PutObject to the destination bucket in DestinationRegion, through
the standard boto3 resolution (``AWS_ENDPOINT_URL`` included), with ContentType and KVS's object metadata.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote

from stillframe.storage import validate_key

if TYPE_CHECKING:
    from stillframe.settings import Settings

DELIVERED_DIR = "delivered"


class ImageSink(Protocol):
    """Writes one delivered image; raises on failure (the worker retries)."""

    def put(
        self, bucket: str, key: str, data: bytes, *, region: str, content_type: str, metadata: dict[str, str]
    ) -> None:
        """Write ``data`` as ``s3://bucket/key`` (a bucket in ``region``)."""


class DirectorySink:
    """``<root>/<bucket>/<key>`` files: the embedded store's stand-in for S3 buckets."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, bucket: str, key: str) -> Path:
        from stillframe.storage.local_segments import segment_names

        validate_key(key)
        # The bucket is one more key segment ("/" percent-encoded), encoded as the local store encodes them
        # (".." is "%2E%2E"); valid bucket names come through unchanged.
        segments = [quote(bucket, safe=""), *key.split("/")]
        return self.root.joinpath(*(name for segment in segments for name in segment_names(segment)))

    def put(
        self, bucket: str, key: str, data: bytes, *, region: str, content_type: str, metadata: dict[str, str]
    ) -> None:
        target = self.path(bucket, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".delivering-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class S3Sink:
    """PutObject into the destination bucket, with the process's client for its region (``resources.s3_client``)."""

    def put(
        self, bucket: str, key: str, data: bytes, *, region: str, content_type: str, metadata: dict[str, str]
    ) -> None:
        from stillframe import resources

        resources.s3_client(region=region).put_object(
            Bucket=bucket, Key=key, Body=data, ContentType=content_type, Metadata=metadata
        )


def sink_for(settings: Settings) -> ImageSink:
    """The sink that matches the store: a directory next to the embedded store's data, else S3."""
    if settings.store == "local":
        return DirectorySink(Path(settings.data_dir) / DELIVERED_DIR)
    return S3Sink()
