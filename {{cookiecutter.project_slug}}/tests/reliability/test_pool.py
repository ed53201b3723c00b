"""The connection pool under steady concurrency: no connection opened per request, a bounded
wait for a free connection, and reads that see every committed revocation at once."""

import asyncio
import contextvars
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import event, select, text

from app.core.config import Settings
from app.db.connection_queue import NestedSessionError
from app.db.session import create_database
from app.main import create_app
from tests.conftest import PASSWORD, assert_error
from tests.reliability.conftest import _client, register_and_login
from tests.settings import changed_settings
from tests.urls import LOGIN, LOGOUT_ALL, ME{% if cookiecutter.example_resource %}, url_for{% endif %}

ROUNDS = 20


@pytest.fixture
async def live_app(reliability_settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(reliability_settings)
    async with app.router.lifespan_context(app):
        yield app


def record_backends(app: FastAPI) -> set[int]:
    """The PostgreSQL backend pid of every connection the app's pool opens from now on."""
    backends: set[int] = set()

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        backends.add(dbapi_connection.driver_connection.get_server_pid())

    event.listen(app.state.db.engine.sync_engine, "connect", on_connect)
    return backends


async def backend_pids(app: FastAPI) -> set[int]:
    """The server's backend pids connected to the app's database, as PostgreSQL lists them."""
    async with app.state.db.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        )
        return {pid for (pid,) in rows}


async def test_concurrency_above_pool_size_never_opens_a_connection_per_request(
    live_app: FastAPI, reliability_settings: Settings
) -> None:
    """Every round runs more requests at once than the pool holds, reads and writes mixed."""
    pool_limit = reliability_settings.db_pool_size + reliability_settings.db_max_overflow
    concurrent = reliability_settings.db_pool_size * 2 + 5
    backends = record_backends(live_app)
    # Connections other tests left on this database are not this pool's: count only new ones.
    already_there = await backend_pids(live_app)
    async with _client(live_app) as client:
        tokens = await register_and_login(client, f"pool-{uuid.uuid4().hex[:8]}@example.com")
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        for number in range(ROUNDS):
            reads = [client.get(ME, headers=auth) for _ in range(concurrent - 1)]
            rename = client.patch(ME, json={"full_name": f"Round {number}"}, headers=auth)
            responses = await asyncio.gather(*reads, rename)
            assert [r.status_code for r in responses] == [200] * concurrent
    assert 0 < len(backends) <= pool_limit
    # Counted on the server too: the backends that appeared meanwhile are the pool's, no more.
    opened_meanwhile = await backend_pids(live_app) - already_there
    assert len(opened_meanwhile) <= pool_limit


async def test_a_freed_connection_goes_to_the_session_that_waited_longest(
    reliability_settings: Settings,
) -> None:
    """A session asked for after another is already waiting never takes that one's turn.

    The latecomer starts the moment the holder's connection goes back to the pool, before the
    waiter wakes: the pool's own wait would hand it the connection (and send the waiter to the
    back of the line); the connection queue makes it wait behind the waiter.
    """
    settings = changed_settings(reliability_settings, db_pool_size=1, db_max_overflow=0)
    database = create_database(settings)
    served: list[str] = []
    release = asyncio.Event()
    latecomers: list[asyncio.Task[None]] = []
    holding = asyncio.Event()

    async def use(name: str, hold_until: asyncio.Event | None = None) -> None:
        async with database.reads() as session:
            await session.execute(select(1))
            if hold_until is not None:
                holding.set()
                await hold_until.wait()
            served.append(name)

    def on_checkin(*_: Any) -> None:
        if release.is_set() and not latecomers:
            # A fresh context: a task started here would otherwise inherit the holder's turn.
            latecomer = use("latecomer")
            loop = asyncio.get_running_loop()
            latecomers.append(loop.create_task(latecomer, context=contextvars.Context()))

    event.listen(database.engine.sync_engine.pool, "checkin", on_checkin)
    try:
        holder = asyncio.create_task(use("holder", hold_until=release))
        await asyncio.wait_for(holding.wait(), timeout=5)
        waiter = asyncio.create_task(use("waiter"))
        await asyncio.sleep(0.05)  # long enough to be queued
        release.set()
        await asyncio.gather(holder, waiter)
        await asyncio.gather(*latecomers)
    finally:
        await database.engine.dispose()
    assert served == ["holder", "waiter", "latecomer"]


@asynccontextmanager
async def pooled_connection_held(app: FastAPI) -> AsyncIterator[None]:
    async with app.state.db.engine.connect() as held:
        await held.execute(text("SELECT 1"))
        yield


@asynccontextmanager
async def session_held(app: FastAPI) -> AsyncIterator[None]:
    """A session held by another task, as another request would hold it."""
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with app.state.db.reads() as held:
            await held.execute(select(1))
            holding.set()
            await release.wait()

    holder = asyncio.create_task(hold())
    await asyncio.wait_for(holding.wait(), timeout=5)
    try:
        yield
    finally:
        release.set()
        await holder


async def test_a_second_session_in_one_task_is_refused_at_once(
    reliability_settings: Settings,
) -> None:
    """Waiting for a turn while holding one would stall every request under load."""
    database = create_database(reliability_settings)
    try:
        async with database.reads() as first:
            await first.execute(select(1))
            with pytest.raises(NestedSessionError):
                async with database.transaction():
                    pass
        async with database.transaction() as after:  # the first is over: a turn again
            await after.execute(select(1))
    finally:
        await database.engine.dispose()


@pytest.mark.parametrize("hold", [pooled_connection_held, session_held])
async def test_waiting_too_long_for_a_connection_is_a_503_envelope(
    reliability_settings: Settings,
    hold: Callable[[FastAPI], AbstractAsyncContextManager[None]],
) -> None:
    """Whether the pool's only connection is held outside the queue or by a queued session."""
    settings = changed_settings(
        reliability_settings, db_pool_size=1, db_max_overflow=0, db_pool_timeout_seconds=0.2
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app), _client(app) as client:
        tokens = await register_and_login(client, f"wait-{uuid.uuid4().hex[:8]}@example.com")
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        async with hold(app):
            response = await client.get(ME, headers=auth)
        assert response.status_code == 503, response.text
        assert_error(response.json(), "SERVICE_UNAVAILABLE")
        assert int(response.headers["retry-after"]) > 0
        assert (await client.get(ME, headers=auth)).status_code == 200  # released: served again

{%- if cookiecutter.example_resource %}


async def test_a_route_that_reads_authenticates_in_its_own_session(live_app: FastAPI) -> None:
    """ReadingUser and ReadSessionDep share one session: one connection checkout a request."""
    pool = live_app.state.db.engine.sync_engine.pool
    checkouts: list[object] = []
    async with _client(live_app) as client:
        tokens = await register_and_login(client, f"reads-{uuid.uuid4().hex[:8]}@example.com")
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        event.listen(pool, "checkout", lambda *args: checkouts.append(args))
        response = await client.get(url_for("list_items"), headers=auth)
    assert response.status_code == 200
    assert len(checkouts) == 1
{%- endif %}


async def test_revocations_reach_the_very_next_read_through_the_pool(live_app: FastAPI) -> None:
    """Reads run without a transaction of their own; each must still see the last commit."""
    async with _client(live_app) as client:
        email = f"revoke-{uuid.uuid4().hex[:8]}@example.com"
        first = await register_and_login(client, email)
        auth = {"Authorization": f"Bearer {first['access_token']}"}
        assert (await client.get(ME, headers=auth)).status_code == 200
        assert (await client.post(LOGOUT_ALL, headers=auth)).status_code == 204
        assert (await client.get(ME, headers=auth)).status_code == 401

        login = await client.post(LOGIN, data={"username": email, "password": PASSWORD})
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        change = {"password": "a brand new passphrase", "current_password": PASSWORD}
        assert (await client.patch(ME, json=change, headers=auth)).status_code == 200
        assert (await client.get(ME, headers=auth)).status_code == 401
