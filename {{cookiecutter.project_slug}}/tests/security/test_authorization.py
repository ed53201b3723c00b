"""Privilege escalation: admin routes as a user, self-promotion, mass assignment of protected fields.

Authenticated but not allowed is a 403 (no Bearer challenge: a new token would not help).
"""

import uuid

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.models.users import Role, User
from tests.conftest import PASSWORD, auth_headers, make_user
from tests.security.attacks import assert_invalid_field, assert_refused
from tests.urls import ME, REGISTER, USERS


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "", None),
        ("GET", "/{id}", None),
        ("PATCH", "/{id}", {"full_name": "Pwned"}),
        ("DELETE", "/{id}", None),
    ],
    ids=["list", "read", "update", "delete"],
)
async def test_admin_routes_are_403_for_a_normal_user(
    client: AsyncClient,
    user_headers: dict[str, str],
    other_user: User,
    method: str,
    path: str,
    body: dict[str, str] | None,
) -> None:
    url = USERS + path.format(id=other_user.id)
    response = await client.request(method, url, json=body, headers=user_headers)
    assert_refused(response, 403, "FORBIDDEN")
    assert "www-authenticate" not in response.headers


async def test_user_cannot_promote_themselves_through_the_admin_route(
    client: AsyncClient, user: User, user_headers: dict[str, str]
) -> None:
    response = await client.patch(
        f"{USERS}/{user.id}", json={"role": "admin"}, headers=user_headers
    )
    assert_refused(response, 403, "FORBIDDEN")
    assert (await client.get(ME, headers=user_headers)).json()["role"] == "user"


@pytest.mark.parametrize(
    "payload",
    [
        {"role": "admin"},
        {"is_active": True},
        {"id": str(uuid.uuid4())},
        {"hashed_password": "$2b$12$attacker"},
        {"token_version": 0},
    ],
    ids=["role", "is_active", "id", "hashed_password", "token_version"],
)
async def test_self_update_refuses_protected_fields(
    client: AsyncClient, user_headers: dict[str, str], payload: dict[str, object]
) -> None:
    response = await client.patch(ME, json=payload, headers=user_headers)
    assert_invalid_field(response, next(iter(payload)))
    me = (await client.get(ME, headers=user_headers)).json()
    assert me["role"] == "user"


@pytest.mark.parametrize(
    "extra",
    [{"role": "admin"}, {"is_active": False}, {"id": str(uuid.uuid4())}],
    ids=["role", "is_active", "id"],
)
async def test_registration_refuses_protected_fields(
    client: AsyncClient, extra: dict[str, object]
) -> None:
    payload = {"email": "sneaky@example.com", "password": PASSWORD, **extra}
    response = await client.post(REGISTER, json=payload)
    assert_invalid_field(response, next(iter(extra)))


async def test_demoted_admin_loses_admin_routes_immediately(
    client: AsyncClient,
    admin: User,
    admin_headers: dict[str, str],
    session: AsyncSession,
    settings: Settings,
) -> None:
    """Roles are read from the database on every request, never trusted from the token."""
    second = await make_user(session, settings, email="second-admin@example.com", role=Role.ADMIN)
    demoted = await client.patch(
        f"{USERS}/{admin.id}", json={"role": "user"}, headers=auth_headers(second, settings)
    )
    assert demoted.status_code == 200
    assert_refused(await client.get(USERS, headers=admin_headers), 403, "FORBIDDEN")
