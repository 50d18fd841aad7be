"""GetImages' time budget covers the whole request: time spent finding fragments counts too."""

from __future__ import annotations

import time

import pytest

from stillframe.domain import requests
from tests.conftest import T0

LOCAL_ONLY = pytest.mark.parametrize("invoke", ["local"], indirect=True)


@LOCAL_ONLY
def test_a_slow_lookup_uses_up_the_budget_so_the_page_stops_after_the_first_fragment(invoke, clip_factory, monkeypatch):
    from stillframe.operations.get_images import get_images

    # Given a stream with 6 s of media, and a fragment lookup slower than the whole budget
    invoke("/createStream", {"StreamName": "cam", "DataRetentionInHours": 1})
    headers = {"x-amzn-stream-name": "cam", "x-amzn-producer-start-timestamp": str(T0)}
    assert invoke("/putMedia", clip_factory(seconds=6, fps=25, gop=50), headers=headers)["status"] == 200
    svc = invoke.services
    lookup = svc.fragments.covering_candidates

    def slow_lookup(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(0.3)  # stands for a lookup in a huge or slow store
        return lookup(*args, **kwargs)

    monkeypatch.setattr(svc.fragments, "covering_candidates", slow_lookup)
    request = requests.parse_get_images(
        {
            "StreamName": "cam",
            "ImageSelectorType": "PRODUCER_TIMESTAMP",
            "StartTimestamp": T0,
            "EndTimestamp": T0 + 5,
            "SamplingInterval": 1000,
            "Format": "JPEG",
        }
    )
    # When GetImages runs with a budget shorter than the lookup
    page = get_images(
        request,
        streams=svc.streams,
        fragments=svc.fragments,
        tokens=svc.tokens,
        now_ms=int(time.time() * 1000),
        budget_s=0.1,
    )
    # Then the page stops after the first fragment's two samples (never empty), with a NextToken for the rest
    assert len(page["Images"]) == 2 and all("ImageContent" in image for image in page["Images"])
    assert "NextToken" in page
