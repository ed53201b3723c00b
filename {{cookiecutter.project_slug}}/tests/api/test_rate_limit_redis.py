"""Rate-limit counters in the real Redis: shared by every instance, never a reason to refuse service."""

import asyncio
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from tests.urls import ME

REDIS_START_SECONDS = 10.0
BREAKER_SECONDS = 0.3


@asynccontextmanager
async def client_for(app: FastAPI) -> AsyncIterator[AsyncClient]:
    # With the lifespan, so the app's own engine (used by readiness) is disposed afterwards.
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client,
    ):
        yield client


def closed_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_two_app_instances_share_one_counter(
    app_factory: Callable[..., FastAPI], user_headers: dict[str, str]
) -> None:
    # Two create_app() calls are two workers: only a shared storage makes them count together.
    prefix = f"test-shared-{uuid.uuid4().hex}"
    first = app_factory(rate_limit_default="3/minute", rate_limit_key_prefix=prefix)
    second = app_factory(rate_limit_default="3/minute", rate_limit_key_prefix=prefix)
    async with client_for(first) as one, client_for(second) as two:
        statuses = [
            (await client.get(ME, headers=user_headers)).status_code
            for client in (one, two, one, two)
        ]
    assert statuses == [200, 200, 200, 429]


async def test_services_with_different_key_prefixes_count_apart(
    app_factory: Callable[..., FastAPI], user_headers: dict[str, str]
) -> None:
    first = app_factory(rate_limit_default="1/minute")
    second = app_factory(rate_limit_default="1/minute")
    async with client_for(first) as one, client_for(second) as two:
        statuses = [
            (await client.get(ME, headers=user_headers)).status_code for client in (one, two)
        ]
    assert statuses == [200, 200]


async def test_readiness_checks_redis(client: AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


async def test_requests_are_served_unlimited_with_a_warning_when_redis_is_down(
    app_factory: Callable[..., FastAPI],
    user_headers: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = app_factory(
        redis_url=f"redis://127.0.0.1:{closed_port()}/0", rate_limit_default="1/minute"
    )
    async with client_for(app) as client:
        responses = [await client.get(ME, headers=user_headers) for _ in range(3)]
    assert [response.status_code for response in responses] == [200, 200, 200]
    assert "x-ratelimit-limit" not in responses[0].headers
    assert "Rate-limit storage failed" in capsys.readouterr().err


async def test_readiness_is_degraded_naming_redis_when_it_is_down(
    app_factory: Callable[..., FastAPI],
) -> None:
    app = app_factory(redis_url=f"redis://127.0.0.1:{closed_port()}/0")
    async with client_for(app) as client:
        response = await client.get("/health/ready")
    # Still 200: the service answers without Redis (limits fail open), so it stays in rotation.
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "redis": "unavailable"},
    }


@contextmanager
def redis_server(port: int) -> Iterator[None]:
    """A throwaway Redis on 127.0.0.1:`port`, stopped (killed) when the block ends."""
    server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + REDIS_START_SECONDS
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        yield
    finally:
        server.kill()
        server.wait(timeout=REDIS_START_SECONDS)


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs the redis-server binary")
async def test_limits_and_readiness_come_back_by_themselves_after_a_redis_outage(
    app_factory: Callable[..., FastAPI], user_headers: dict[str, str]
) -> None:
    port = closed_port()
    app = app_factory(
        redis_url=f"redis://127.0.0.1:{port}/0",
        rate_limit_default="2/minute",
        rate_limit_breaker_seconds=BREAKER_SECONDS,
    )
    me = ME
    async with client_for(app) as client:
        with redis_server(port):
            before = await client.get(me, headers=user_headers)
        # Redis is gone: requests are served, readiness says so.
        during = [await client.get(me, headers=user_headers) for _ in range(3)]
        degraded = await client.get("/health/ready")
        with redis_server(port):  # back on the same address, empty (it keeps nothing on disk)
            await asyncio.sleep(BREAKER_SECONDS)  # the breaker lets the next request try again
            recovered = await client.get("/health/ready")
            after = [await client.get(me, headers=user_headers) for _ in range(3)]
    assert before.status_code == 200
    assert [response.status_code for response in during] == [200, 200, 200]
    assert degraded.json()["checks"]["redis"] == "unavailable"
    assert recovered.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}
    # Limits are enforced again without a restart.
    assert [response.status_code for response in after] == [200, 200, 429]
