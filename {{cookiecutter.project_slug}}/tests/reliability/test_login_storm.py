"""A login spike must not take the API down: reads keep their connections, surplus logins are
turned away at once with the envelope instead of queueing until clients time out."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from app.core.config import Settings
from app.main import create_app
from tests.conftest import PASSWORD, assert_error
from tests.reliability.conftest import _client, register_and_login
from tests.settings import changed_settings
from tests.urls import LOGIN, ME

POOL_SIZE = 4
HASHING_SLOTS = 1
HASHING_QUEUE = 4
# More logins at once than pooled connections, hashing slots and queue places together.
LOGINS = 3 * (POOL_SIZE + HASHING_SLOTS + HASHING_QUEUE)
READS = 3 * POOL_SIZE
HASHING_WAIT_SECONDS = 5.0
HASHES_DONE_WHILE_ARRIVING = 2
# bcrypt at 11 rounds takes ~0.1 s here: slow enough to hold a connection visibly.
BCRYPT_ROUNDS = 11
# A read waits for no login; this is what it may cost on a 2-core machine busy with other test
# suites (queued behind the logins' hashing, as before the fix, every read took 5 s here).
READ_BOUND_SECONDS = 3.0
# A login past the queue is refused before any work, far sooner than a queued one may wait.
REFUSAL_BOUND_SECONDS = 2.0


@pytest.fixture
async def storm_app(reliability_settings: Settings) -> AsyncIterator[FastAPI]:
    settings = changed_settings(
        reliability_settings,
        db_pool_size=POOL_SIZE,
        db_max_overflow=0,
        bcrypt_rounds=BCRYPT_ROUNDS,
        password_hashing_concurrency=HASHING_SLOTS,
        password_hashing_queue=HASHING_QUEUE,
        password_hashing_wait_seconds=HASHING_WAIT_SECONDS,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


async def timed(request: asyncio.Future[httpx.Response] | object) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = await request  # type: ignore[misc]
    return response, time.perf_counter() - started


async def busy_refusals(client: httpx.AsyncClient) -> float:
    scrape = (await client.get("/metrics")).text
    line = next(x for x in scrape.splitlines() if x.startswith("password_hashing_rejections_total"))
    return float(line.split()[-1])


async def test_reads_keep_answering_while_more_users_log_in_than_the_service_can_hash(
    storm_app: FastAPI,
) -> None:
    """The fault here is connections held while hashing, not a blocked loop: bcrypt runs in
    threads, so this test watches the pool and the answers, not the loop's latency."""
    async with _client(storm_app) as client:
        email = f"storm-{uuid.uuid4().hex[:8]}@example.com"
        tokens = await register_and_login(client, email)
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        refused_before = await busy_refusals(client)
        form = {"username": email, "password": PASSWORD}
        logins = [
            asyncio.ensure_future(timed(client.post(LOGIN, data=form))) for _ in range(LOGINS)
        ]
        await asyncio.sleep(0.05)  # the logins are in: reading, hashing or queued
        reads = await asyncio.gather(*(timed(client.get(ME, headers=auth)) for _ in range(READS)))
        logged_in = await asyncio.gather(*logins)
        refused_after = await busy_refusals(client)

    assert [response.status_code for response, _ in reads] == [200] * READS
    assert max(seconds for _, seconds in reads) < READ_BOUND_SECONDS
    statuses = [response.status_code for response, _ in logged_in]
    assert set(statuses) == {200, 503}, statuses
    busy = [(response, seconds) for response, seconds in logged_in if response.status_code == 503]
    for response, seconds in busy:
        assert_error(response.json(), "SERVER_BUSY")
        assert int(response.headers["retry-after"]) >= 1
        # Queued ones may wait their turn, never longer: no login hangs until a client timeout.
        assert seconds < HASHING_WAIT_SECONDS + REFUSAL_BOUND_SECONDS
    # Past the slots and the queue, logins are refused at once. On a busy machine a hash may
    # finish while the logins are still arriving, letting one or two more into the queue.
    past_the_queue = LOGINS - HASHING_SLOTS - HASHING_QUEUE - HASHES_DONE_WHILE_ARRIVING
    assert sum(seconds < REFUSAL_BOUND_SECONDS for _, seconds in busy) >= past_the_queue
    assert refused_after - refused_before == len(busy)
