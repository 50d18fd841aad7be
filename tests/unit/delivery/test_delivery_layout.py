"""KVS's object-key layout and the sample grid a fragment owns."""

from __future__ import annotations

import pytest

from stillframe.delivery.layout import Destination, image_name, sample_times


def test_grid_is_epoch_aligned_so_consecutive_fragments_share_no_sample_and_skip_none():
    # Given two fragments back to back, the first ending mid-interval
    first = sample_times(10_250, 2_100, 1000)
    second = sample_times(12_350, 1_900, 1000)
    # Then together they own every multiple of the interval they cover, once
    assert first == [11_000, 12_000]
    assert second == [13_000, 14_000]
    assert sample_times(12_000, 1_000, 1000) == [12_000]  # start included, end excluded
    assert sample_times(12_001, 998, 1000) == []  # shorter than the interval, between two grid points


def test_destination_prefix_and_bucket():
    assert Destination.parse("s3://stills").key("a.jpg") == "a.jpg"
    assert Destination.parse("s3://stills/lobby/").key("a.jpg") == "lobby/a.jpg"
    assert Destination.parse("s3://stills/a/b").bucket == "stills"
    with pytest.raises(ValueError):
        Destination.parse("https://stills/a")


def test_image_name_is_kvs_layout_and_stable_across_retries():
    name = image_name("111122223333", "demo-stream", 1690707290324, "9134", "JPEG")
    account, stream, timecode, rest = name.split("_")
    assert (account, stream, timecode) == ("111122223333", "demo-stream", "1690707290324")
    assert rest.endswith(".jpg") and len(rest) == len("f20f9add-75e7-4399-a30f-fc7aefb1bab7.jpg")
    assert image_name("111122223333", "demo-stream", 1690707290324, "9134", "JPEG") == name
    assert image_name("111122223333", "demo-stream", 1690707290324, "9135", "JPEG") != name
    assert image_name("111122223333", "demo-stream", 1, "9134", "PNG").endswith(".png")
