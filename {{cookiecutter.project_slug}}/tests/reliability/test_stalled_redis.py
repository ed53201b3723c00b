"""A stalled Redis (accepting, never answering: a partition or a stopped process) costs each
rate-limited request or cached read at most one bounded wait, never the event loop; counting and
caching resume by themselves."""

import asyncio
import gc
import logging
import statistics
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import asynccontextmanager
from typing import TypeVar

import httpx
import pytest
from pydantic import BaseModel
from sqlalchemy.engine import make_url

from app.cache.stores import build_cache
from app.core.config import Settings
from app.main import create_app
from tests.reliability.conftest import _client, register_and_login
from tests.reliability.proxy import TcpProxy
from tests.settings import changed_settings
from tests.urls import LIVE, ME

T = TypeVar("T")
REDIS_TIMEOUT_SECONDS = 0.3
BREAKER_SECONDS = 1.0
# The limiter gives the store twice REDIS_TIMEOUT_SECONDS per request; the rest is the request
# on a machine that may be busy with other test suites.
LIMITED_BOUND_SECONDS = 2 * REDIS_TIMEOUT_SECONDS + 1.4
LIVE_BOUND_SECONDS = 0.1  # most probes; none may wait as long as one stalled Redis call
LIMITED_REQUESTS = 20
# The stall lasts about REDIS_TIMEOUT_SECONDS before the breaker opens: room for 10 probes or
# more even where each probe takes a few milliseconds on a busy machine.
PROBE_EVERY_SECONDS = 0.01
THREAD_WAIT_SECONDS = 5.0
# A callback (one step of a coroutine) that runs longer than this blocks every other request.
SLOW_CALLBACK_SECONDS = 0.1


@asynccontextmanager
async def loop_must_not_block(caplog: pytest.LogCaptureFixture) -> AsyncIterator[None]:
    """Fails if any callback held the event loop over SLOW_CALLBACK_SECONDS inside the block.

    asyncio's debug mode times every callback and logs the slow ones (logger "asyncio"). Enter
    it after warming up: first imports and compilations are not the request path.
    """
    loop = asyncio.get_running_loop()
    debug, threshold = loop.get_debug(), loop.slow_callback_duration
    loop.set_debug(True)
    loop.slow_callback_duration = SLOW_CALLBACK_SECONDS
    # As the served process does (app/server.py): what exists now is never scanned again,
    # so a full collection of the test runner's own objects is not mistaken for the request path.
    gc.collect()
    gc.freeze()
    try:
        with caplog.at_level(logging.WARNING, logger="asyncio"):
            yield
    finally:
        gc.unfreeze()
        loop.set_debug(debug)
        loop.slow_callback_duration = threshold
    slow = [r.getMessage() for r in caplog.records if r.name == "asyncio" and " took " in r.msg]
    assert not slow, "the event loop was blocked:\n" + "\n".join(slow)


class RedisBehindProxy:
    """The test Redis behind a pausable proxy running on an event loop of its own, in a thread,
    like a separate server: whatever the app does to its own loop cannot stop the proxy."""

    def __init__(self, host: str, port: int) -> None:
        self.proxy = TcpProxy(host, port)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> "RedisBehindProxy":
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.proxy.start(), self.loop).result(THREAD_WAIT_SECONDS)
        return self

    def __exit__(self, *_: object) -> None:
        asyncio.run_coroutine_threadsafe(self.proxy.stop(), self.loop).result(THREAD_WAIT_SECONDS)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(THREAD_WAIT_SECONDS)
        self.loop.close()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.proxy.port}/0"

    def pause(self) -> None:
        self.loop.call_soon_threadsafe(self.proxy.pause)

    def resume(self) -> None:
        self.loop.call_soon_threadsafe(self.proxy.resume)


@pytest.fixture
def redis_proxy(settings: Settings) -> Iterator[RedisBehindProxy]:
    redis = make_url(settings.redis_url.replace("redis://", "redis+x://", 1))
    with RedisBehindProxy(redis.host or "127.0.0.1", redis.port or 6379) as proxy:
        yield proxy


async def timed(call: Awaitable[T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = await call
    return result, time.perf_counter() - started


async def probe_liveness(client: httpx.AsyncClient, stop: asyncio.Event) -> list[float]:
    """/health/live, again and again until `stop`: the latency of each answer."""
    latencies = []
    while not stop.is_set():
        response, seconds = await timed(client.get(LIVE))
        assert response.status_code == 200
        latencies.append(seconds)
        await asyncio.sleep(PROBE_EVERY_SECONDS)
    return latencies


async def test_a_stalled_redis_never_blocks_liveness_and_counting_resumes_after_it(
    reliability_settings: Settings, redis_proxy: RedisBehindProxy, caplog: pytest.LogCaptureFixture
) -> None:
    settings = changed_settings(
        reliability_settings,
        rate_limit_enabled=True,
        redis_url=redis_proxy.url,
        redis_timeout_seconds=REDIS_TIMEOUT_SECONDS,
        rate_limit_breaker_seconds=BREAKER_SECONDS,
        rate_limit_key_prefix=f"test-stall-{uuid.uuid4().hex}",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app), _client(app) as client:
        tokens = await register_and_login(client, f"stall-{uuid.uuid4().hex[:8]}@example.com")
        user_headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        warm = await client.get(ME, headers=user_headers)
        assert "x-ratelimit-remaining" in warm.headers  # counted in Redis through the proxy
        redis_proxy.pause()
        stop = asyncio.Event()
        async with loop_must_not_block(caplog):
            prober = asyncio.create_task(probe_liveness(client, stop))
            limited = await asyncio.gather(
                *(timed(client.get(ME, headers=user_headers)) for _ in range(LIMITED_REQUESTS))
            )
            while_open, open_seconds = await timed(client.get(ME, headers=user_headers))
            stop.set()
            live = await prober
        redis_proxy.resume()
        await asyncio.sleep(BREAKER_SECONDS)
        recovered = await client.get(ME, headers=user_headers)

    assert [response.status_code for response, _ in limited] == [200] * LIMITED_REQUESTS
    assert max(seconds for _, seconds in limited) < LIMITED_BOUND_SECONDS
    # The breaker is open: no wait at all, the request goes through uncounted.
    assert while_open.status_code == 200
    assert "x-ratelimit-remaining" not in while_open.headers
    assert open_seconds < LIVE_BOUND_SECONDS * 2
    assert len(live) >= 10
    assert statistics.quantiles(live, n=10)[-1] < LIVE_BOUND_SECONDS
    assert max(live) < REDIS_TIMEOUT_SECONDS
    assert "x-ratelimit-remaining" in recovered.headers


class Answer(BaseModel):
    value: int


async def test_a_stalled_redis_costs_a_cached_read_one_bounded_wait_then_caching_resumes(
    settings: Settings, redis_proxy: RedisBehindProxy, caplog: pytest.LogCaptureFixture
) -> None:
    cache = build_cache(
        changed_settings(
            settings,
            cache_enabled=True,
            redis_url=redis_proxy.url,
            redis_timeout_seconds=REDIS_TIMEOUT_SECONDS,
            cache_timeout_seconds=REDIS_TIMEOUT_SECONDS,
            cache_breaker_seconds=BREAKER_SECONDS,
            cache_key_prefix=f"test-stall-{uuid.uuid4().hex}",
        )
    )
    loads = 0

    async def load() -> Answer:
        nonlocal loads
        loads += 1
        return Answer(value=loads)

    try:
        cached = await cache.get_or_load("answer", Answer, load)
        assert await cache.get_or_load("answer", Answer, load) == cached  # served by Redis
        redis_proxy.pause()
        async with loop_must_not_block(caplog):
            stalled = await asyncio.gather(
                *(timed(cache.get_or_load("answer", Answer, load)) for _ in range(LIMITED_REQUESTS))
            )
            while_open, open_seconds = await timed(cache.get_or_load("answer", Answer, load))
        redis_proxy.resume()
        await asyncio.sleep(BREAKER_SECONDS)
        recovered = await cache.get_or_load("answer", Answer, load)
    finally:
        await cache.close()

    assert all(value is not None for value, _ in stalled)
    assert max(seconds for _, seconds in stalled) < LIMITED_BOUND_SECONDS
    assert while_open is not None
    assert open_seconds < LIVE_BOUND_SECONDS  # the breaker is open: straight to the loader
    assert recovered == cached  # Redis answers again and still holds the current entry
