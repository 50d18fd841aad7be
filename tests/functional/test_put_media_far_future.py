"""Producer times the fragment index cannot sort (from 2286-11-20 on) are refused at PutMedia, nothing stored."""

from __future__ import annotations

import pytest

from stillframe.catalog.keys import LAST_INDEXED_MS
from tests.functional.test_put_media import put, stored


@pytest.mark.parametrize(
    "start_s",
    [LAST_INDEXED_MS // 1000 - 2, LAST_INDEXED_MS // 1000 + 1, 253_402_300_000],  # ends past it; 2286; year 9999
)
def test_producer_times_past_the_index_width_are_refused(invoke, clip_factory, start_s: int) -> None:
    invoke("/createStream", {"StreamName": "cam", "DataRetentionInHours": 1})
    answer = put(invoke, clip_factory(seconds=4, fps=25, gop=50), **{"x-amzn-producer-start-timestamp": str(start_s)})
    assert (answer["status"], answer["body"]["__type"]) == (400, "InvalidArgumentException")
    assert "2286-11-20" in answer["body"]["message"]
    assert stored(invoke) == []


def test_the_last_indexable_times_are_stored_and_found(invoke, clip_factory) -> None:
    invoke("/createStream", {"StreamName": "cam", "DataRetentionInHours": 1})
    start_s = LAST_INDEXED_MS // 1000 - 10
    answer = put(invoke, clip_factory(seconds=4, fps=25, gop=50), **{"x-amzn-producer-start-timestamp": str(start_s)})
    assert answer["status"] == 200
    selector = {
        "FragmentSelectorType": "PRODUCER_TIMESTAMP",
        "TimestampRange": {"StartTimestamp": start_s, "EndTimestamp": start_s + 9},
    }
    listed = invoke("/listFragments", {"StreamName": "cam", "FragmentSelector": selector})
    assert listed["status"] == 200 and len(listed["body"]["Fragments"]) >= 1
