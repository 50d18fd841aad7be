"""Throttling in `stillframe serve`: a burst, then the rate; shared safely by the server's threads."""

from __future__ import annotations

import threading

import pytest

from stillframe.server import TokenBucket, default_burst


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_full_burst_then_refusals() -> None:
    # Given a bucket of 1 request per second, burst 3, and a clock that does not move
    bucket = TokenBucket(1, 3, clock=FakeClock())

    # When 5 requests arrive at once / Then the first 3 pass and the rest are refused
    assert [bucket.take() for _ in range(5)] == [True, True, True, False, False]


def test_tokens_come_back_at_the_rate_up_to_the_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(2, 2, clock=clock)
    assert [bucket.take() for _ in range(3)] == [True, True, False]

    # When half a second passes / Then one more request (2 per second) passes
    clock.now += 0.5
    assert [bucket.take() for _ in range(2)] == [True, False]

    # When a long time passes / Then no more than the burst is available
    clock.now += 60
    assert [bucket.take() for _ in range(3)] == [True, True, False]


def test_refused_requests_do_not_push_the_next_token_back() -> None:
    # Given an empty bucket hammered by refused requests
    clock = FakeClock()
    bucket = TokenBucket(1, 1, clock=clock)
    bucket.take()
    assert not any(bucket.take() for _ in range(50))

    # When one second passes / Then a request passes again
    clock.now += 1
    assert bucket.take()


def test_threads_share_the_burst_exactly() -> None:
    # Given a burst of 7 and a clock that does not move
    bucket = TokenBucket(1, 7, clock=FakeClock())
    results: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        for _ in range(5):
            passed = bucket.take()
            with lock:
                results.append(passed)

    # When 8 threads take 5 tokens each at the same time
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then exactly the burst passed
    assert len(results) == 40 and results.count(True) == 7


@pytest.mark.parametrize(("rate", "burst"), [(0.2, 1), (1, 1), (2.5, 2), (50, 50)])
def test_default_burst_is_a_seconds_worth_at_least_one(rate: float, burst: int) -> None:
    assert default_burst(rate) == burst


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_impossible_limits_are_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="rate must be > 0"):
        TokenBucket(rate, burst)


def test_description_for_banners_and_messages() -> None:
    assert str(TokenBucket(1, 2)) == "1 request per second, burst 2"
    assert str(TokenBucket(0.5, 1)) == "0.5 requests per second, burst 1"
