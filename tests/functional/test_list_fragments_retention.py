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


@LOCAL_ONLY
def test_a_next_token_alone_continues_its_listing(invoke):
    # Given 7 fragments, 5 of them in a producer-time range
    invoke("/createStream", {"StreamName": "cam", "DataRetentionInHours": 24})
    svc = invoke.services
    stream = svc.streams.find("cam")
    now_ms = int(time.time() * 1000) - 60_000
    for n in range(7):
        start = now_ms + n * 2000
        svc.fragments.add(FragmentRecord(stream.media_id, f"{n:05d}", start, start, 2000, 4), f"f{n:03d}".encode())
    selector = {
        "FragmentSelectorType": "PRODUCER_TIMESTAMP",
        "TimestampRange": {"StartTimestamp": (now_ms + 2000) / 1000, "EndTimestamp": (now_ms + 10_000) / 1000},
    }
    first = invoke("/listFragments", {"StreamName": "cam", "FragmentSelector": selector, "MaxResults": 2})
    token = first["body"]["NextToken"]
    # When the next page is asked with only StreamName and NextToken (the AWS CLI's --no-paginate --next-token)
    rest = invoke("/listFragments", {"StreamName": "cam", "NextToken": token, "MaxResults": 10})
    # Then it continues the same range, not every fragment
    assert [f["FragmentNumber"] for f in first["body"]["Fragments"]] == ["00001", "00002"]
    assert [f["FragmentNumber"] for f in rest["body"]["Fragments"]] == ["00003", "00004", "00005"]
    # And the same selector repeated continues too, while another selector with that token is refused
    again = invoke("/listFragments", {"StreamName": "cam", "FragmentSelector": selector, "NextToken": token})
    assert [f["FragmentNumber"] for f in again["body"]["Fragments"]] == ["00003", "00004", "00005"]
    other = {**selector, "FragmentSelectorType": "SERVER_TIMESTAMP"}
    refused = invoke("/listFragments", {"StreamName": "cam", "FragmentSelector": other, "NextToken": token})
    assert refused["status"] == 400 and "NextToken does not belong" in refused["body"]["message"]
    # And a token stays bound to its stream
    invoke("/createStream", {"StreamName": "other", "DataRetentionInHours": 24})
    elsewhere = invoke("/listFragments", {"StreamName": "other", "NextToken": token})
    assert elsewhere["status"] == 400
