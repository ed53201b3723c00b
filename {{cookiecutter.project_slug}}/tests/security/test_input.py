"""Hostile input: oversize bodies, overlong fields, bcrypt's 72-byte edge, NUL, SQL injection."""

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from app.models.users import User
from tests.conftest import PASSWORD
from tests.security.attacks import assert_invalid_field, assert_refused, assert_unauthorized, login
from tests.urls import LOGIN, ME, REFRESH, REGISTER, USERS

SQL_INJECTIONS = ["' OR '1'='1", "x'; DROP TABLE users; --", "%' UNION SELECT hashed_password --"]


async def test_oversize_body_is_413(app_factory: Callable[..., FastAPI]) -> None:
    app = app_factory(max_body_bytes=2048)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        body = {"email": "big@example.com", "password": PASSWORD, "full_name": "x" * 4096}
        response = await client.post(REGISTER, json=body)
    assert_refused(response, 413, "PAYLOAD_TOO_LARGE")
    assert response.json()["error"]["details"] == {"max_bytes": 2048}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "a" * 310 + "@example.com", "password": PASSWORD}, "email"),
        ({"email": "long@example.com", "password": PASSWORD, "full_name": "x" * 201}, "full_name"),
        ({"email": "long@example.com", "password": "x" * 10_000}, "password"),
    ],
    ids=["email", "full_name", "password"],
)
async def test_overlong_registration_fields_are_422(
    client: AsyncClient, payload: dict[str, str], field: str
) -> None:
    assert_invalid_field(await client.post(REGISTER, json=payload), field)


async def test_overlong_login_username_is_422(client: AsyncClient) -> None:
    response = await client.post(LOGIN, data={"username": "a" * 400, "password": PASSWORD})
    assert_invalid_field(response, "username")


async def test_overlong_refresh_token_is_422(client: AsyncClient) -> None:
    assert_invalid_field(
        await client.post(REFRESH, json={"refresh_token": "a" * 5000}), "refresh_token"
    )


@pytest.mark.parametrize(
    "password",
    ["x" * 73, "é" * 37, "🔑" * 19],
    ids=["73-ascii", "74-bytes-e-acute", "76-bytes-emoji"],
)
async def test_password_over_72_bytes_is_refused_at_registration(
    client: AsyncClient, password: str
) -> None:
    """bcrypt reads 72 bytes: longer secrets are refused, never silently truncated."""
    response = await client.post(REGISTER, json={"email": "mb@example.com", "password": password})
    assert_invalid_field(response, "password")


async def test_multibyte_password_of_exactly_72_bytes_works(client: AsyncClient) -> None:
    password = "é" * 36
    response = await client.post(REGISTER, json={"email": "mb@example.com", "password": password})
    assert response.status_code == 201
    assert (await login(client, "mb@example.com", password))["token_type"] == "bearer"


async def test_password_over_72_bytes_at_login_is_a_plain_401(
    client: AsyncClient, user: User
) -> None:
    response = await client.post(
        LOGIN, data={"username": user.email, "password": PASSWORD + "é" * 40}
    )
    assert_unauthorized(response, "Incorrect email or password")


@pytest.mark.parametrize(
    ("url", "field"),
    [
        (REGISTER, "password"),
        (REGISTER, "full_name"),
    ],
)
async def test_nul_character_in_a_body_is_422_not_a_database_error(
    client: AsyncClient, url: str, field: str
) -> None:
    payload = {"email": "nul@example.com", "password": PASSWORD, field: "abc\x00defghij"}
    assert_invalid_field(await client.post(url, json=payload), field)


async def test_nul_character_in_login_is_422(client: AsyncClient, user: User) -> None:
    response = await client.post(
        LOGIN, data={"username": user.email + "\x00", "password": PASSWORD}
    )
    assert_invalid_field(response, "username")


@pytest.mark.parametrize("injection", SQL_INJECTIONS)
async def test_sql_injection_in_a_filter_matches_nothing(
    client: AsyncClient, admin_headers: dict[str, str], user: User, injection: str
) -> None:
    response = await client.get(USERS, params={"email": injection}, headers=admin_headers)
    assert response.status_code == 200
    assert response.json()["total"] == 0
    everyone = await client.get(USERS, headers=admin_headers)
    assert everyone.json()["total"] == 2


@pytest.mark.parametrize("injection", ["email; DROP TABLE users", "hashed_password", "-id", "1"])
async def test_sort_accepts_only_allow_listed_fields(
    client: AsyncClient, admin_headers: dict[str, str], injection: str
) -> None:
    response = await client.get(USERS, params={"sort": injection}, headers=admin_headers)
    assert_invalid_field(response, "sort")


async def test_sql_injection_in_a_path_id_is_422(
    client: AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.get(f"{USERS}/1' OR '1'='1", headers=admin_headers)
    assert_invalid_field(response, "user_id")


async def test_sql_injection_as_login_username_is_a_plain_401(
    client: AsyncClient, user: User
) -> None:
    response = await client.post(LOGIN, data={"username": "' OR '1'='1' --", "password": PASSWORD})
    assert_unauthorized(response, "Incorrect email or password")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 101}, "limit"),
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
        ({"page": 2}, "page"),
    ],
    ids=["limit-too-big", "limit-zero", "negative-offset", "unknown-parameter"],
)
async def test_pagination_is_bounded(
    client: AsyncClient, admin_headers: dict[str, str], params: dict[str, int], field: str
) -> None:
    assert_invalid_field(await client.get(USERS, params=params, headers=admin_headers), field)


async def test_email_is_normalised_so_case_cannot_create_a_twin(
    client: AsyncClient, user: User
) -> None:
    response = await client.post(
        REGISTER, json={"email": "  USER@Example.COM ", "password": PASSWORD}
    )
    assert_refused(response, 409, "EMAIL_TAKEN")


async def test_overlong_self_update_is_422(
    client: AsyncClient, user_headers: dict[str, str]
) -> None:
    assert_invalid_field(
        await client.patch(ME, json={"full_name": "x" * 201}, headers=user_headers), "full_name"
    )
