"""A database outage, played by cutting a proxy between the app and PostgreSQL."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import event
from sqlalchemy.engine import make_url

from app.core.config import Settings
from app.main import create_app
from tests.conftest import PASSWORD, assert_error
from tests.reliability.conftest import _client, register_and_login
from tests.reliability.proxy import TcpProxy
from tests.settings import changed_settings
from tests.urls import LIVE, LOGIN, ME, READY, REGISTER

WRITES_DURING_CUT = 20


@pytest.fixture
async def proxy(reliability_settings: Settings) -> AsyncIterator[TcpProxy]:
    url = make_url(reliability_settings.database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    yield proxy
    await proxy.stop()


@pytest.fixture
async def outage_app(reliability_settings: Settings, proxy: TcpProxy) -> AsyncIterator[FastAPI]:
    """One app instance for the whole outage: it must recover without a restart."""
    url = make_url(reliability_settings.database_url).set(host="127.0.0.1", port=proxy.port)
    settings = changed_settings(
        reliability_settings,
        database_url=url.render_as_string(hide_password=False),
        db_connect_timeout_seconds=2.0,
        db_command_timeout_seconds=5.0,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(outage_app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with _client(outage_app) as client:
        yield client


def assert_unavailable(response: Response) -> None:
    assert response.status_code == 503, response.text
    assert_error(response.json(), "SERVICE_UNAVAILABLE")
    assert int(response.headers["retry-after"]) > 0


async def register(client: AsyncClient, email: str) -> Response:
    return await client.post(REGISTER, json={"email": email, "password": PASSWORD})


async def can_log_in(client: AsyncClient, email: str) -> bool:
    login = await client.post(LOGIN, data={"username": email, "password": PASSWORD})
    return login.status_code == 200


async def test_outage_answers_503_then_recovers_without_restart(
    client: AsyncClient, proxy: TcpProxy
) -> None:
    tokens = await register_and_login(client, f"outage-{uuid.uuid4().hex[:8]}@example.com")
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    lost_email = f"lost-{uuid.uuid4().hex[:8]}@example.com"

    proxy.cut()
    ready = await client.get(READY)
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == "unavailable"
    for _ in range(3):  # pooled (now dead) connections first, then failed new connections
        assert_unavailable(await client.get(ME, headers=auth))
    assert_unavailable(await register(client, lost_email))
    assert (await client.get(LIVE)).status_code == 200

    proxy.restore()
    assert (await client.get(READY)).status_code == 200
    me = await client.get(ME, headers=auth)
    assert me.status_code == 200, me.text
    # The write refused during the outage left nothing behind: the account does not exist.
    assert not await can_log_in(client, lost_email)


async def test_no_acknowledged_write_is_lost_when_the_link_drops_mid_flight(
    outage_app: FastAPI, client: AsyncClient, proxy: TcpProxy
) -> None:
    """The link drops as an INSERT is sent, with other writes before and behind it: writes
    fail with 503, and every write that was answered 201 is stored."""
    inserts: list[str] = []

    def cut_at_the_middle_insert(*args: Any) -> None:
        statement: str = args[2]
        if statement.startswith("INSERT INTO users"):
            inserts.append(statement)
            if len(inserts) == WRITES_DURING_CUT // 2:
                proxy.cut()

    engine = outage_app.state.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", cut_at_the_middle_insert)
    emails = [f"inflight-{n}-{uuid.uuid4().hex[:8]}@example.com" for n in range(WRITES_DURING_CUT)]
    try:
        responses = await asyncio.gather(*(register(client, email) for email in emails))
    finally:
        event.remove(engine, "before_cursor_execute", cut_at_the_middle_insert)
    proxy.restore()
    assert (await client.get(READY)).status_code == 200

    statuses = [response.status_code for response in responses]
    assert set(statuses) <= {201, 503}
    assert 503 in statuses, "the cut reached no write"
    acknowledged = [email for email, status in zip(emails, statuses, strict=True) if status == 201]
    for email in acknowledged:
        assert await can_log_in(client, email), f"{email} got 201 but was not stored"
