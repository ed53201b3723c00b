from collections.abc import Callable

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from tests.conftest import UNREACHABLE_DATABASE_URL


async def test_live_answers_ok(client: AsyncClient) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"]  # through the whole middleware stack


async def test_live_answers_head_for_uptime_checkers(client: AsyncClient) -> None:
    response = await client.head("/health/live")
    assert response.status_code == 200
    assert response.content == b""


async def test_live_is_documented_once(client: AsyncClient) -> None:
    operations = (await client.get("/openapi.json")).json()["paths"]["/health/live"]
    assert list(operations) == ["get"]
    schema = operations["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/Liveness"}


async def test_ready_reports_database_ok(client: AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["checks"]["database"] == "ok"


async def test_ready_is_503_naming_the_database_when_it_is_unreachable(
    app_factory: Callable[..., FastAPI],
) -> None:
    app = app_factory(database_url=UNREACHABLE_DATABASE_URL)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        ready = await client.get("/health/ready")
        live = await client.get("/health/live")
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    assert ready.json()["checks"]["database"] == "unavailable"
    assert live.status_code == 200
