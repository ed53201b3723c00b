"""A database outage, played by cutting a proxy between the app and PostgreSQL."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from httpx import AsyncClient, Response
from sqlalchemy.engine import make_url

from app.core.config import Settings
from app.main import create_app
from tests.conftest import PASSWORD, assert_error
from tests.reliability.conftest import _client, register_and_login
from tests.reliability.proxy import TcpProxy
from tests.settings import changed_settings
from tests.urls import LOGIN, ME, REGISTER

WRITES_DURING_CUT = 20


@pytest.fixture
async def proxy(reliability_settings: Settings) -> AsyncIterator[TcpProxy]:
    url = make_url(reliability_settings.database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    yield proxy
    await proxy.stop()


@pytest.fixture
async def client(reliability_settings: Settings, proxy: TcpProxy) -> AsyncIterator[AsyncClient]:
    """One app instance for the whole outage: it must recover without a restart."""
    url = make_url(reliability_settings.database_url).set(host="127.0.0.1", port=proxy.port)
    settings = changed_settings(
        reliability_settings,
        database_url=url.render_as_string(hide_password=False),
        db_connect_timeout_seconds=2.0,
        db_command_timeout_seconds=5.0,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app), _client(app) as client:
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
    ready = await client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == "unavailable"
    for _ in range(3):  # pooled (now dead) connections first, then failed new connections
        assert_unavailable(await client.get(ME, headers=auth))
    assert_unavailable(await register(client, lost_email))
    assert (await client.get("/health/live")).status_code == 200

    proxy.restore()
    assert (await client.get("/health/ready")).status_code == 200
    me = await client.get(ME, headers=auth)
    assert me.status_code == 200, me.text
    # The write refused during the outage left nothing behind: the account does not exist.
    assert not await can_log_in(client, lost_email)


async def test_no_acknowledged_write_is_lost_when_the_link_drops_mid_flight(
    client: AsyncClient, proxy: TcpProxy
) -> None:
    emails = [f"inflight-{n}-{uuid.uuid4().hex[:8]}@example.com" for n in range(WRITES_DURING_CUT)]
    writes = [asyncio.create_task(register(client, email)) for email in emails]
    await asyncio.sleep(0.01)
    proxy.cut()
    responses = await asyncio.gather(*writes)
    proxy.restore()
    assert (await client.get("/health/ready")).status_code == 200

    assert {r.status_code for r in responses} <= {201, 503}
    acknowledged = [
        email for email, r in zip(emails, responses, strict=True) if r.status_code == 201
    ]
    for email in acknowledged:
        assert await can_log_in(client, email), f"{email} got 201 but was not stored"
