"""A database outage, played by cutting a proxy between the app and PostgreSQL."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from httpx import AsyncClient, Response
from sqlalchemy.engine import make_url

from app.core.config import Settings
from app.main import create_app
from tests.conftest import assert_error
from tests.reliability.conftest import _client, register_and_login
from tests.reliability.proxy import TcpProxy

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
    settings = Settings(
        **{
            **reliability_settings.model_dump(),
            "database_url": url.render_as_string(hide_password=False),
            "db_connect_timeout_seconds": 2.0,
            "db_command_timeout_seconds": 5.0,
        }
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app), _client(app) as client:
        yield client


def assert_unavailable(response: Response) -> None:
    assert response.status_code == 503, response.text
    assert_error(response.json(), "SERVICE_UNAVAILABLE")
    assert int(response.headers["retry-after"]) > 0


async def test_outage_answers_503_then_recovers_without_restart(
    client: AsyncClient, proxy: TcpProxy
) -> None:
    tokens = await register_and_login(client, f"outage-{uuid.uuid4().hex[:8]}@example.com")
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    before = await client.post("/api/v1/items", json={"title": "before"}, headers=auth)
    assert before.status_code == 201

    proxy.cut()
    ready = await client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": "unavailable"}
    for _ in range(3):  # pooled (now dead) connections first, then failed new connections
        assert_unavailable(await client.get("/api/v1/users/me", headers=auth))
    assert_unavailable(await client.post("/api/v1/items", json={"title": "lost"}, headers=auth))
    assert (await client.get("/health/live")).status_code == 200

    proxy.restore()
    assert (await client.get("/health/ready")).status_code == 200
    me = await client.get("/api/v1/users/me", headers=auth)
    assert me.status_code == 200, me.text
    titles = [
        item["title"] for item in (await client.get("/api/v1/items", headers=auth)).json()["items"]
    ]
    assert titles == ["before"]


async def test_no_acknowledged_write_is_lost_when_the_link_drops_mid_flight(
    client: AsyncClient, proxy: TcpProxy
) -> None:
    tokens = await register_and_login(client, f"inflight-{uuid.uuid4().hex[:8]}@example.com")
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}

    async def write(number: int) -> Response:
        return await client.post("/api/v1/items", json={"title": f"w{number}"}, headers=auth)

    writes = [asyncio.create_task(write(number)) for number in range(WRITES_DURING_CUT)]
    await asyncio.sleep(0.01)
    proxy.cut()
    responses = await asyncio.gather(*writes)
    proxy.restore()

    assert {r.status_code for r in responses} <= {201, 503}
    acknowledged = {r.json()["title"] for r in responses if r.status_code == 201}
    listed = await client.get("/api/v1/items", params={"limit": 100}, headers=auth)
    assert listed.status_code == 200, listed.text
    stored = {item["title"] for item in listed.json()["items"]}
    assert acknowledged <= stored
