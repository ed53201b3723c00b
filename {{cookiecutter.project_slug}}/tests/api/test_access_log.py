"""One access line per request: request id, method, route template, status and duration."""

import io
import json
import uuid
from collections.abc import Callable

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from app.observability.logging import ACCESS_LOGGER


async def test_json_access_line_names_the_route_template_not_the_path(
    app_factory: Callable[..., FastAPI], log_output: Callable[..., io.StringIO]
) -> None:
    app = app_factory(access_log=True, log_json=True, log_level="INFO")
    output = log_output(ACCESS_LOGGER)
    user_id = uuid.uuid4()
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get(f"/api/v1/users/{user_id}")
    (line,) = output.getvalue().splitlines()
    record = json.loads(line)
    assert record["logger"] == ACCESS_LOGGER
    assert record["request_id"] == response.headers["x-request-id"]
    assert record["method"] == "GET"
    assert record["route"] == "/api/v1/users/{user_id}"
    assert record["status"] == response.status_code == 401
    assert isinstance(record["duration_ms"], float)
    assert str(user_id) not in line


async def test_text_access_line_carries_the_same_facts(
    app_factory: Callable[..., FastAPI], log_output: Callable[..., io.StringIO]
) -> None:
    app = app_factory(access_log=True, log_json=False, log_level="INFO")
    output = log_output(ACCESS_LOGGER)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get("/health/live")
    (line,) = output.getvalue().splitlines()
    assert f"[{response.headers['x-request-id']}]" in line
    assert "GET /health/live 200 " in line


async def test_unmatched_path_is_logged_without_anything_token_like(
    app_factory: Callable[..., FastAPI], log_output: Callable[..., io.StringIO]
) -> None:
    app = app_factory(access_log=True, log_json=True, log_level="INFO")
    output = log_output(ACCESS_LOGGER)
    jwt_like = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get(f"/nowhere/{jwt_like}")
    assert response.status_code == 404
    record = json.loads(output.getvalue())
    assert record["route"] == "/nowhere/[redacted]"
    assert jwt_like not in output.getvalue()


async def test_access_log_off_writes_nothing(
    app_factory: Callable[..., FastAPI], log_output: Callable[..., io.StringIO]
) -> None:
    app = app_factory(access_log=False, log_level="INFO")
    output = log_output(ACCESS_LOGGER)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        await client.get("/health/live")
    assert output.getvalue() == ""
