"""The envelope, request ids, security headers, body limits and rate limits, across the API."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from app.api.deps import WriteSessionDep
from app.models.refresh_tokens import RefreshToken
from app.models.users import User
from tests.conftest import PASSWORD, assert_error
from tests.urls import API_PREFIX, LOGIN, ME, REGISTER


async def test_unknown_route_is_404_in_the_envelope(client: AsyncClient) -> None:
    response = await client.get(f"{API_PREFIX}/nothing-here")
    assert response.status_code == 404
    assert_error(response.json(), "NOT_FOUND")


async def test_a_trailing_slash_is_404_in_the_envelope_not_a_redirect(client: AsyncClient) -> None:
    response = await client.get(f"{ME}/")
    assert response.status_code == 404
    assert_error(response.json(), "NOT_FOUND")


async def test_wrong_method_is_405_in_the_envelope(client: AsyncClient) -> None:
    response = await client.put("/health/live")
    assert response.status_code == 405
    assert_error(response.json(), "METHOD_NOT_ALLOWED")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("OPTIONS", ME, "GET, PATCH"),
        ("PUT", ME, "GET, PATCH"),
        ("OPTIONS", "/api/v1/users/00000000-0000-4000-8000-000000000000", "DELETE, GET, PATCH"),
        ("PUT", "/health/live", "GET, HEAD"),
    ],
)
async def test_a_405_allows_every_method_of_its_path(
    client: AsyncClient, method: str, path: str, allowed: str
) -> None:
    """Each method is its own route: the first one matched must not speak for the path."""
    response = await client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed


async def test_a_body_that_is_not_text_is_a_documented_400(
    client: AsyncClient, user_headers: dict[str, str]
) -> None:
    headers = {**user_headers, "Content-Type": "application/json"}
    response = await client.patch(ME, content=b"\xff\xfe\x00", headers=headers)
    assert response.status_code == 400
    assert_error(response.json(), "BAD_REQUEST")


async def test_malformed_json_is_422_in_the_envelope(
    client: AsyncClient, user_headers: dict[str, str]
) -> None:
    response = await client.patch(
        ME,
        content=b'{"full_name": ',
        headers={**user_headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert_error(response.json(), "VALIDATION_ERROR")


async def test_unexpected_exception_is_a_generic_500_with_request_id(
    app_factory: Callable[..., FastAPI],
) -> None:
    app = app_factory()

    async def explode() -> None:
        raise RuntimeError("secret internal detail: password=hunter2")

    app.add_api_route(f"{API_PREFIX}/explode", explode)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get(f"{API_PREFIX}/explode")
    assert response.status_code == 500
    body = response.json()
    assert_error(body, "INTERNAL_ERROR")
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    assert body["error"]["request_id"] == response.headers["x-request-id"]
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "failure",
    [
        TimeoutError("SMTP read timed out"),
        ConnectionResetError("the mail relay reset the connection"),
    ],
)
async def test_a_socket_error_outside_the_database_is_not_reported_as_a_database_outage(
    app_factory: Callable[..., FastAPI], failure: OSError
) -> None:
    """TimeoutError is an OSError: only the engine's own connect failures are the database's."""
    app = app_factory()

    async def call_out() -> None:
        raise failure

    app.add_api_route(f"{API_PREFIX}/call-out", call_out)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get(f"{API_PREFIX}/call-out")
    assert response.status_code == 500
    assert_error(response.json(), "INTERNAL_ERROR")
    assert "database" not in response.text.lower()


async def test_every_response_carries_a_request_id(client: AsyncClient) -> None:
    first = await client.get("/health/live")
    second = await client.get("/health/live")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    assert len(first.headers["x-request-id"]) == 32


async def test_a_sane_caller_request_id_is_kept_and_echoed_in_errors(client: AsyncClient) -> None:
    response = await client.get(ME, headers={"X-Request-ID": "trace-abc.123"})
    assert response.headers["x-request-id"] == "trace-abc.123"
    assert response.json()["error"]["request_id"] == "trace-abc.123"


async def test_an_unsafe_caller_request_id_is_replaced(client: AsyncClient) -> None:
    response = await client.get("/health/live", headers={"X-Request-ID": "evil\tvalue" + "x" * 80})
    assert response.headers["x-request-id"] != "evil\tvalue" + "x" * 80
    assert len(response.headers["x-request-id"]) == 32


async def test_security_headers_are_on_every_response(client: AsyncClient) -> None:
    for response in (await client.get("/health/live"), await client.get(ME)):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert "strict-transport-security" not in response.headers


async def test_hsts_is_sent_in_production(app_factory: Callable[..., FastAPI]) -> None:
    app = app_factory(environment="production", secret_key="p" * 40)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get("/health/live")
    assert "max-age=" in response.headers["strict-transport-security"]


async def test_oversized_body_is_413_in_the_envelope(app_factory: Callable[..., FastAPI]) -> None:
    app = app_factory(max_body_bytes=1024)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        response = await client.post(
            REGISTER, json={"email": "a@example.com", "password": "x" * 5000}
        )
    assert response.status_code == 413
    assert_error(response.json(), "PAYLOAD_TOO_LARGE")


async def test_streamed_oversized_body_without_length_is_413(
    app_factory: Callable[..., FastAPI],
) -> None:
    app = app_factory(max_body_bytes=1024)

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(4):
            yield b'{"email": "' + b"a" * 500

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        response = await client.post(
            REGISTER, content=chunks(), headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 413
    assert_error(response.json(), "PAYLOAD_TOO_LARGE")


async def test_default_rate_limit_applies_to_routes_under_api_v1(
    app_factory: Callable[..., FastAPI], user_headers: dict[str, str]
) -> None:
    # users/me carries no limit of its own: the router-level default must still count it.
    app = app_factory(rate_limit_default="3/minute")
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        statuses = [(await client.get(ME, headers=user_headers)).status_code for _ in range(4)]
        limited = await client.get(ME, headers=user_headers)
    assert statuses == [200, 200, 200, 429]
    assert limited.status_code == 429
    assert_error(limited.json(), "RATE_LIMITED")
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["x-ratelimit-limit"] == "3"
    assert limited.headers["x-ratelimit-remaining"] == "0"


async def test_successful_responses_carry_rate_limit_headers(
    client: AsyncClient, user_headers: dict[str, str]
) -> None:
    response = await client.get(ME, headers=user_headers)
    assert response.headers["x-ratelimit-limit"] == "120"
    assert int(response.headers["x-ratelimit-remaining"]) == 119


async def test_login_has_a_stricter_limit_than_the_default(
    app_factory: Callable[..., FastAPI],
) -> None:
    app = app_factory(rate_limit_auth="2/minute")
    form = {"username": "nobody@example.com", "password": PASSWORD}
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        statuses = [(await client.post(LOGIN, data=form)).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]


async def test_health_is_never_rate_limited(app_factory: Callable[..., FastAPI]) -> None:
    app = app_factory(rate_limit_default="1/minute")
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        statuses = {(await client.get("/health/live")).status_code for _ in range(3)}
    assert statuses == {200}


async def test_cors_allows_configured_origin_only(client: AsyncClient) -> None:
    preflight = {"Access-Control-Request-Method": "GET"}
    allowed = await client.options(ME, headers={"Origin": "https://app.example.com", **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    refused = await client.options(ME, headers={"Origin": "https://evil.example.com", **preflight})
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers


async def test_cors_answers_vary_on_origin_with_or_without_one(client: AsyncClient) -> None:
    """Caches must not serve a response made for one origin (or none) to another."""
    plain = await client.get("/health/live")
    browser = await client.get("/health/live", headers={"Origin": "https://app.example.com"})
    assert plain.headers.get_list("vary") == ["Origin"]
    assert "access-control-allow-origin" not in plain.headers
    assert "Origin" in browser.headers["vary"]
    assert browser.headers["access-control-allow-origin"] == "https://app.example.com"


async def test_docs_can_be_turned_off(app_factory: Callable[..., FastAPI]) -> None:
    app = app_factory(docs_enabled=False)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get("/docs")).status_code == 404
        assert (await client.get("/openapi.json")).status_code == 404


async def test_openapi_documents_the_error_envelope(client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert "ErrorResponse" in schema["components"]["schemas"]
    login = schema["paths"][LOGIN]["post"]
    assert {"401", "422", "429"} <= set(login["responses"])
    for status, code in (
        ("401", "UNAUTHORIZED"),
        ("422", "VALIDATION_ERROR"),
        ("429", "RATE_LIMITED"),
    ):
        example = login["responses"][status]["content"]["application/json"]["example"]
        assert example["error"]["code"] == code


async def test_database_unique_violation_is_409_and_foreign_key_violation_is_400(
    app_factory: Callable[..., FastAPI],
) -> None:
    app = app_factory()

    async def duplicate(session: WriteSessionDep) -> None:
        for _ in range(2):
            session.add(User(email="twin@example.com", hashed_password="x"))
            await session.flush()

    async def orphan(session: WriteSessionDep) -> None:
        session.add(
            RefreshToken(
                id=uuid.uuid4(),
                user_id=uuid.uuid4(),
                family_id=uuid.uuid4(),
                token_hash="0" * 64,
                expires_at=datetime.now(UTC),
            )
        )
        await session.flush()

    app.add_api_route(f"{API_PREFIX}/duplicate", duplicate, methods=["POST"])
    app.add_api_route(f"{API_PREFIX}/orphan", orphan, methods=["POST"])
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        conflict = await client.post(f"{API_PREFIX}/duplicate")
        bad_reference = await client.post(f"{API_PREFIX}/orphan")
    assert conflict.status_code == 409
    assert_error(conflict.json(), "CONFLICT")
    assert "twin@example.com" not in conflict.text
    assert bad_reference.status_code == 400
    assert_error(bad_reference.json(), "BAD_REQUEST")
    assert "fk_" not in bad_reference.text
