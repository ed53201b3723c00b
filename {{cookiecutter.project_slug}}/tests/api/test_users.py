import uuid

import pytest
from httpx import AsyncClient

from app.models.users import User
from tests.conftest import PASSWORD, assert_error
from tests.urls import LOGIN, ME, REFRESH, USERS


async def test_me_returns_the_current_user(
    client: AsyncClient, user_headers: dict[str, str]
) -> None:
    response = await client.get(ME, headers=user_headers)
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == "user@example.com"
    assert set(body) == {
        "id",
        "email",
        "full_name",
        "role",
        "is_active",
        "is_verified",
        "created_at",
        "updated_at",
    }


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic dXNlcjpwYXNz"}],
)
async def test_me_without_a_valid_token_is_401(
    client: AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.get(ME, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert_error(response.json(), "UNAUTHORIZED")


async def test_update_me_changes_name_and_email(
    client: AsyncClient, user_headers: dict[str, str]
) -> None:
    response = await client.patch(
        ME,
        json={"full_name": "Renamed", "email": "Renamed@Example.com", "current_password": PASSWORD},
        headers=user_headers,
    )
    assert response.status_code == 200
    assert response.json()["full_name"] == "Renamed"
    assert response.json()["email"] == "renamed@example.com"


async def test_update_me_to_a_taken_email_is_409(
    client: AsyncClient, user_headers: dict[str, str], other_user: User
) -> None:
    body = {"email": other_user.email, "current_password": PASSWORD}
    response = await client.patch(ME, json=body, headers=user_headers)
    assert response.status_code == 409
    assert_error(response.json(), "EMAIL_TAKEN")


@pytest.mark.parametrize(
    "payload",
    [
        {"role": "admin"},
        {"is_active": False},
        {"id": str(uuid.uuid4())},
        {"password": "a new password"},
        {"email": None},
    ],
)
async def test_update_me_refuses_fields_a_user_cannot_set(
    client: AsyncClient, user_headers: dict[str, str], payload: dict[str, object]
) -> None:
    response = await client.patch(ME, json=payload, headers=user_headers)
    assert response.status_code == 422
    assert_error(response.json(), "VALIDATION_ERROR")
    me = (await client.get(ME, headers=user_headers)).json()
    assert me["role"] == "user"
    assert me["is_active"] is True


async def test_password_change_with_wrong_current_password_is_400(
    client: AsyncClient, user_headers: dict[str, str]
) -> None:
    response = await client.patch(
        ME, json={"password": "a brand new one", "current_password": "wrong"}, headers=user_headers
    )
    assert response.status_code == 400
    assert_error(response.json(), "WRONG_PASSWORD")


async def test_password_change_works_and_ends_sessions(client: AsyncClient, user: User) -> None:
    login = await client.post(LOGIN, data={"username": user.email, "password": PASSWORD})
    tokens = login.json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    response = await client.patch(
        ME, json={"password": "a brand new one", "current_password": PASSWORD}, headers=headers
    )
    assert response.status_code == 200
    refresh = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401
    old = await client.post(LOGIN, data={"username": user.email, "password": PASSWORD})
    assert old.status_code == 401
    new = await client.post(LOGIN, data={"username": user.email, "password": "a brand new one"})
    assert new.status_code == 200


async def test_admin_lists_users_with_pagination(
    client: AsyncClient, admin_headers: dict[str, str], user: User, other_user: User
) -> None:
    response = await client.get(USERS, params={"limit": 2, "sort": "email"}, headers=admin_headers)
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 3
    assert body["limit"] == 2
    assert body["offset"] == 0
    assert [u["email"] for u in body["results"]] == ["admin@example.com", "other@example.com"]
    rest = await client.get(
        USERS, params={"limit": 2, "offset": 2, "sort": "email"}, headers=admin_headers
    )
    assert [u["email"] for u in rest.json()["results"]] == ["user@example.com"]


async def test_admin_filters_users(
    client: AsyncClient, admin_headers: dict[str, str], user: User
) -> None:
    by_role = await client.get(USERS, params={"role": "admin"}, headers=admin_headers)
    assert [u["email"] for u in by_role.json()["results"]] == ["admin@example.com"]
    by_email = await client.get(USERS, params={"email": "USER@"}, headers=admin_headers)
    assert [u["email"] for u in by_email.json()["results"]] == ["user@example.com"]


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"sort": "hashed_password"}, {"unknown": "1"}],
)
async def test_user_list_parameters_are_validated(
    client: AsyncClient, admin_headers: dict[str, str], params: dict[str, object]
) -> None:
    response = await client.get(USERS, params=params, headers=admin_headers)
    assert response.status_code == 422
    assert_error(response.json(), "VALIDATION_ERROR")


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", ""), ("GET", "/{id}"), ("PATCH", "/{id}"), ("DELETE", "/{id}")],
)
async def test_admin_routes_are_403_for_a_normal_user(
    client: AsyncClient, user: User, user_headers: dict[str, str], method: str, path: str
) -> None:
    url = USERS + path.format(id=user.id)
    response = await client.request(
        method, url, json={} if method == "PATCH" else None, headers=user_headers
    )
    assert response.status_code == 403
    assert_error(response.json(), "FORBIDDEN")


async def test_admin_reads_updates_and_deletes_a_user(
    client: AsyncClient, admin_headers: dict[str, str], user: User
) -> None:
    url = f"{USERS}/{user.id}"
    assert (await client.get(url, headers=admin_headers)).json()["email"] == user.email
    promoted = await client.patch(url, json={"role": "admin"}, headers=admin_headers)
    assert promoted.status_code == 200
    assert promoted.json()["role"] == "admin"
    deleted = await client.delete(url, headers=admin_headers)
    assert deleted.status_code == 204
    assert deleted.content == b""
    missing = await client.get(url, headers=admin_headers)
    assert missing.status_code == 404
    assert_error(missing.json(), "NOT_FOUND")


async def test_unknown_user_id_is_404_and_malformed_id_is_422(
    client: AsyncClient, admin_headers: dict[str, str]
) -> None:
    missing = await client.get(f"{USERS}/{uuid.uuid4()}", headers=admin_headers)
    assert missing.status_code == 404
    malformed = await client.get(f"{USERS}/not-a-uuid", headers=admin_headers)
    assert malformed.status_code == 422


async def test_admin_cannot_lock_themselves_out(
    client: AsyncClient, admin: User, admin_headers: dict[str, str]
) -> None:
    url = f"{USERS}/{admin.id}"
    demote = await client.patch(url, json={"role": "user"}, headers=admin_headers)
    assert demote.status_code == 409
    assert_error(demote.json(), "SELF_LOCKOUT")
    delete = await client.delete(url, headers=admin_headers)
    assert delete.status_code == 409


async def test_deactivated_user_token_stops_working(
    client: AsyncClient, user: User, user_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    assert (await client.get(ME, headers=user_headers)).status_code == 200
    await client.patch(f"{USERS}/{user.id}", json={"is_active": False}, headers=admin_headers)
    response = await client.get(ME, headers=user_headers)
    assert response.status_code == 401


async def test_deleted_user_token_is_401(
    client: AsyncClient, user: User, user_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    await client.delete(f"{USERS}/{user.id}", headers=admin_headers)
    response = await client.get(ME, headers=user_headers)
    assert response.status_code == 401
