"""UpdateDataRetention and UpdateStream: read-check-write of the stream record, Version checked and advanced."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from stillframe.catalog.stream_record import StreamRecord
from stillframe.catalog.stream_updates import StreamUpdates
from stillframe.domain.stream_admin_requests import UpdateDataRetentionRequest, UpdateStreamRequest


def update_data_retention(request: UpdateDataRetentionRequest, *, updates: StreamUpdates) -> dict[str, Any]:
    """Change the retention by the signed amount; refused when it would leave 0..87600 hours."""
    updates.update(
        request.stream,
        lambda record: replace(record, retention_hours=request.new_retention(record.retention_hours)),
        current_version=request.current_version,
    )
    return {}


def update_stream(request: UpdateStreamRequest, *, updates: StreamUpdates) -> dict[str, Any]:
    """Set DeviceName and MediaType; a field left out keeps the stream's value."""

    def change(record: StreamRecord) -> StreamRecord:
        return replace(
            record,
            device_name=request.device_name if request.device_name is not None else record.device_name,
            media_type=request.media_type if request.media_type is not None else record.media_type,
        )

    updates.update(request.stream, change, current_version=request.current_version)
    return {}
