"""ListFragments without a selector starts at the retention cutoff: expired history is never walked."""

from __future__ import annotations

import time

import pytest

from stillframe.catalog.keys import FragmentRecord

LOCAL_ONLY = pytest.mark.parametrize("invoke", ["local"], indirect=True)


@LOCAL_ONLY
def test_expired_fragments_are_neither_listed_nor_read(invoke):
    # Given a 1-hour stream with 50 fragments from yesterday and 3 from the last minutes
    invoke("/createStream", {"StreamName": "cam", "DataRetentionInHours": 1})
    svc = invoke.services
    stream = svc.streams.find("cam")
    now_ms = int(time.time() * 1000)
    starts = [now_ms - 86_400_000 + i * 2000 for i in range(50)] + [now_ms - 120_000 + i * 2000 for i in range(3)]
    for n, start in enumerate(starts):
        svc.fragments.add(FragmentRecord(stream.media_id, f"{n:05d}", start, start, 2000, 4), f"f{n:03d}".encode())
    listed_keys: list[str] = []
    real_list = svc.store.list

    def spy(prefix, start_after="", limit=None):  # type: ignore[no-untyped-def]
        for info in real_list(prefix, start_after, limit):
            listed_keys.append(info.key)
            yield info

    svc.store.list = spy  # type: ignore[method-assign]
    # When ListFragments is called without a FragmentSelector
    answer = invoke("/listFragments", {"StreamName": "cam"})
    # Then the three recent fragments are listed, and no expired marker was even read
    assert [f["FragmentNumber"] for f in answer["body"]["Fragments"]] == ["00050", "00051", "00052"]
    assert all("/markers/" not in key or key.rsplit("/", 1)[1] >= f"{now_ms - 3_600_000:013d}" for key in listed_keys)
