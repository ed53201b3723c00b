"""What every response carries and never carries: CORS, security headers, no internals."""

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text

from app.api.deps import ReadSessionDep
from tests.security.attacks import assert_refused
from tests.urls import API_PREFIX, ME

PREFLIGHT = {"Access-Control-Request-Method": "GET"}
EVIL = "https://evil.example.net"


async def test_cors_preflight_from_an_unlisted_origin_is_refused(client: AsyncClient) -> None:
    response = await client.options(ME, headers={"Origin": EVIL, **PREFLIGHT})
    assert_refused(response, 400, "CORS_REFUSED")
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-credentials" not in response.headers


async def test_cors_preflight_asking_for_an_unlisted_header_is_refused(client: AsyncClient) -> None:
    headers = {
        "Origin": "https://app.example.com",
        **PREFLIGHT,
        "Access-Control-Request-Headers": "X-Evil",
    }
    assert_refused(await client.options(ME, headers=headers), 400, "CORS_REFUSED")


async def test_simple_request_from_an_unlisted_origin_gets_no_cors_grant(
    client: AsyncClient, user_headers: dict[str, str]
) -> None:
    response = await client.get(ME, headers={"Origin": EVIL, **user_headers})
    assert "access-control-allow-origin" not in response.headers


async def test_wildcard_origin_never_comes_with_credentials(
    app_factory: Callable[..., FastAPI],
) -> None:
    app = app_factory(cors_origins=["*"])
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        response = await client.options(ME, headers={"Origin": EVIL, **PREFLIGHT})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", ME, 401), ("GET", f"{API_PREFIX}/nowhere", 404), ("OPTIONS", ME, 400)],
)
async def test_security_headers_are_on_error_responses_too(
    client: AsyncClient, method: str, path: str, status: int
) -> None:
    headers = {"Origin": EVIL, **PREFLIGHT} if method == "OPTIONS" else {}
    response = await client.request(method, path, headers=headers)
    assert response.status_code == status
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert "strict-transport-security" not in response.headers  # not production


async def test_database_error_never_leaks_sql_or_a_trace_even_with_debug(
    app_factory: Callable[..., FastAPI],
) -> None:
    app = app_factory(debug=True)

    async def broken(session: ReadSessionDep) -> None:
        await session.execute(text("SELECT no_such_column FROM users WHERE email = 'probe'"))

    app.add_api_route(f"{API_PREFIX}/broken", broken)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get(f"{API_PREFIX}/broken")
    assert_refused(response, 500, "INTERNAL_ERROR")
    assert response.json()["error"]["message"] == "Internal server error"
    for leak in ("SELECT", "no_such_column", "Traceback", "sqlalchemy", "asyncpg"):
        assert leak not in response.text


async def test_docs_are_off_when_the_setting_says_so(app_factory: Callable[..., FastAPI]) -> None:
    app = app_factory(docs_enabled=False)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert_refused(await client.get(path), 404, "NOT_FOUND")
