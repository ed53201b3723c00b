"""The breaker in front of an optional store (rate-limit counters, the cache): open after a
failure, one probe, then closed."""

import time

import pytest

from app.core.breaker import StorageBreaker

OPEN_SECONDS = 0.05


@pytest.fixture
def tripped() -> StorageBreaker:
    breaker = StorageBreaker(OPEN_SECONDS, name="Store", consequence="going on without it")
    assert breaker.admits()
    breaker.failed(ConnectionError("the store did not answer"))
    return breaker


def test_after_a_failure_requests_skip_the_store_until_the_breaker_times_out(
    tripped: StorageBreaker,
) -> None:
    assert not tripped.admits()
    time.sleep(OPEN_SECONDS)
    assert tripped.admits()  # one request probes the store ...
    assert not tripped.admits()  # ... while the others still go through uncounted


def test_a_probe_that_succeeds_closes_the_breaker(tripped: StorageBreaker) -> None:
    time.sleep(OPEN_SECONDS)
    assert tripped.admits()
    tripped.succeeded()
    assert tripped.admits()
    assert tripped.admits()


def test_a_probe_that_fails_opens_it_again(tripped: StorageBreaker) -> None:
    time.sleep(OPEN_SECONDS)
    assert tripped.admits()
    tripped.failed(TimeoutError("still stalled"))
    assert not tripped.admits()


def test_a_cancelled_probe_lets_the_next_request_probe(tripped: StorageBreaker) -> None:
    time.sleep(OPEN_SECONDS)
    assert tripped.admits()
    tripped.abandoned()
    assert tripped.admits()
