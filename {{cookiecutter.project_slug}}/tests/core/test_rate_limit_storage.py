import threading

import pytest

from app.core.rate_limit_storage import SweepingMemoryStorage, thread_free_storage_uri


def test_memory_uri_is_served_by_the_thread_free_storage() -> None:
    assert thread_free_storage_uri("memory://") == "sweeping-memory://"
    other = "memcached://127.0.0.1:11211"
    assert thread_free_storage_uri(other) == other


def test_counting_hits_starts_no_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    storage = SweepingMemoryStorage()

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a thread was started on the request path")

    monkeypatch.setattr(threading, "Timer", refuse)
    for _ in range(100):
        storage.incr("client", expiry=60)
    assert storage.get("client") == 100


def test_expired_keys_are_swept_inline() -> None:
    storage = SweepingMemoryStorage()
    storage.incr("gone", expiry=0)
    storage._next_sweep = 0.0
    storage.incr("other", expiry=60)
    assert "gone" not in storage.storage
    assert storage.get("other") == 1
