"""Where delivered images go and what they are called: KVS's object-key layout, content types, the sample grid.

KVS (developer guide, "Automated real-time image generation", section "Amazon S3 object path (image)") names each
image ``<ImagePrefix>_<AccountID>_<StreamName>_<ImageTimecode>_<RandomID>.<ext>`` under the destination Uri's
prefix, with ``ContentType`` image/jpeg or image/png. The RandomID here is a UUID derived from the stream, the
fragment and the timecode (not random), so a retried or repeated delivery overwrites its own objects instead of
adding copies.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

EXTENSIONS = {"JPEG": "jpg", "PNG": "png"}
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}
_NAMESPACE = uuid.UUID("5f0b6a53-3f1c-4a63-9d7e-6b1d2f1c0a11")  # Stillframe's own namespace for image ids


@dataclass(frozen=True)
class Destination:
    """``s3://<bucket>[/<prefix>]`` split; ``prefix`` without a trailing slash ("" for none)."""

    bucket: str
    prefix: str

    @classmethod
    def parse(cls, uri: str) -> Destination:
        """The bucket and prefix of an ``s3://`` Uri (validated by UpdateImageGenerationConfiguration)."""
        if not uri.startswith("s3://"):
            raise ValueError(f"not an s3:// URI: {uri!r}")
        bucket, _, prefix = uri[len("s3://") :].partition("/")
        if not bucket:
            raise ValueError(f"no bucket in {uri!r}")
        return cls(bucket, prefix.strip("/"))

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name


def image_name(account_id: str, stream_name: str, timecode_ms: int, fragment_number: str, image_format: str) -> str:
    """KVS's object name of one image (without the Uri's prefix; no ``AWS_KINESISVIDEO_IMAGE_PREFIX`` support)."""
    image_id = uuid.uuid5(_NAMESPACE, f"{account_id}/{stream_name}/{fragment_number}/{timecode_ms}")
    return f"{account_id}_{stream_name}_{timecode_ms}_{image_id}.{EXTENSIONS[image_format]}"


def sample_times(start_ms: int, duration_ms: int, interval_ms: int) -> list[int]:
    """The sample times a fragment covering [start, start + duration) owns: the multiples of the interval.

    An epoch-aligned grid gives consecutive fragments one image per interval between them, none twice, whatever
    their lengths; a fragment shorter than the interval may own none.
    """
    first = -(-start_ms // interval_ms) * interval_ms
    return list(range(first, start_ms + duration_ms, interval_ms))
