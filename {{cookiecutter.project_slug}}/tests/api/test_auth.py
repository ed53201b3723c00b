import pytest
from httpx import AsyncClient

from app.models.users import User
from tests.conftest import PASSWORD, assert_error
from tests.urls import LOGIN, LOGOUT, LOGOUT_ALL, ME, REFRESH, REGISTER, USERS


async def login(client: AsyncClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = await client.post(LOGIN, data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


async def test_register_creates_user_without_exposing_the_hash(client: AsyncClient) -> None:
    response = await client.post(
        REGISTER,
        json={"email": "  New.Person@Example.COM ", "password": PASSWORD, "full_name": "New"},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "new.person@example.com"
    assert body["role"] == "user"
    assert body["is_active"] is True
    assert "password" not in str(body)


async def test_register_duplicate_email_is_409(client: AsyncClient, user: User) -> None:
    response = await client.post(REGISTER, json={"email": "USER@example.com", "password": PASSWORD})
    assert response.status_code == 409
    assert_error(response.json(), "EMAIL_TAKEN")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "a@example.com", "password": "short"}, "password"),
        ({"email": "a@example.com", "password": "x" * 73}, "password"),
        ({"email": "a@example.com", "password": "é" * 37}, "password"),
        ({"email": "a@example.com", "password": PASSWORD, "role": "admin"}, "role"),
        ({"password": PASSWORD}, "email"),
    ],
)
async def test_register_rejects_bad_input_with_field_details(
    client: AsyncClient, payload: dict[str, str], field: str
) -> None:
    response = await client.post(REGISTER, json=payload)
    assert response.status_code == 422
    body = response.json()
    assert_error(body, "VALIDATION_ERROR")
    assert any(field in detail["loc"] for detail in body["error"]["details"])


async def test_register_accepts_a_multibyte_password_within_72_bytes(client: AsyncClient) -> None:
    password = "é" * 36  # 72 bytes
    response = await client.post(REGISTER, json={"email": "mb@example.com", "password": password})
    assert response.status_code == 201
    tokens = await login(client, "mb@example.com", password)
    assert tokens["token_type"] == "bearer"


async def test_login_returns_a_token_pair(client: AsyncClient, user: User) -> None:
    body = await login(client, "User@Example.com")
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    me = await client.get(ME, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["email"] == "user@example.com"


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("user@example.com", "wrong password!"),
        ("nobody@example.com", PASSWORD),
        ("user@example.com", "x" * 100),
    ],
)
async def test_bad_credentials_are_401_with_the_same_message(
    client: AsyncClient, user: User, email: str, password: str
) -> None:
    response = await client.post(LOGIN, data={"username": email, "password": password})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert_error(response.json(), "UNAUTHORIZED")
    assert response.json()["error"]["message"] == "Incorrect email or password"


async def test_login_of_a_deactivated_user_is_401(
    client: AsyncClient, user: User, admin_headers: dict[str, str]
) -> None:
    await client.patch(f"{USERS}/{user.id}", json={"is_active": False}, headers=admin_headers)
    response = await client.post(LOGIN, data={"username": user.email, "password": PASSWORD})
    assert response.status_code == 401


async def test_login_without_form_fields_is_422(client: AsyncClient) -> None:
    response = await client.post(LOGIN, data={"username": "x@example.com"})
    assert response.status_code == 422
    assert_error(response.json(), "VALIDATION_ERROR")


async def test_json_login_names_each_missing_form_field_once(client: AsyncClient) -> None:
    response = await client.post(LOGIN, json={"username": "x@example.com", "password": PASSWORD})
    assert response.status_code == 422
    locations = [detail["loc"] for detail in response.json()["error"]["details"]]
    assert locations == [["body", "username"], ["body", "password"]]


async def test_refresh_rotates_and_refuses_the_old_token(client: AsyncClient, user: User) -> None:
    first = await login(client, user.email)
    rotated = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    again = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert again.status_code == 401
    assert_error(again.json(), "UNAUTHORIZED")


async def test_refresh_reuse_revokes_the_whole_family(client: AsyncClient, user: User) -> None:
    first = await login(client, user.email)
    second = (await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})).json()
    reuse = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401
    # The legitimate holder's newer token dies with the family.
    latest = await client.post(REFRESH, json={"refresh_token": second["refresh_token"]})
    assert latest.status_code == 401


async def test_refresh_refuses_an_access_token(client: AsyncClient, user: User) -> None:
    tokens = await login(client, user.email)
    response = await client.post(REFRESH, json={"refresh_token": tokens["access_token"]})
    assert response.status_code == 401


async def test_refresh_refuses_garbage(client: AsyncClient) -> None:
    response = await client.post(REFRESH, json={"refresh_token": "not.a.token"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_logout_makes_the_refresh_token_useless(client: AsyncClient, user: User) -> None:
    tokens = await login(client, user.email)
    response = await client.post(LOGOUT, json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 204
    after = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert after.status_code == 401


async def test_logout_all_ends_every_session(client: AsyncClient, user: User) -> None:
    laptop = await login(client, user.email)
    phone = await login(client, user.email)
    headers = {"Authorization": f"Bearer {laptop['access_token']}"}
    response = await client.post(LOGOUT_ALL, headers=headers)
    assert response.status_code == 204
    for tokens in (laptop, phone):
        after = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
        assert after.status_code == 401


async def test_logout_all_needs_authentication(client: AsyncClient) -> None:
    response = await client.post(LOGOUT_ALL)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_password_with_a_nul_character_is_refused_not_a_crash(client: AsyncClient) -> None:
    body = {"email": "nul@example.com", "password": "abc\x00defghij"}
    registered = await client.post(REGISTER, json=body)
    assert registered.status_code == 422
    login = await client.post(
        LOGIN, data={"username": "nul@example.com", "password": "abc\x00defghij"}
    )
    # The login form refuses NUL like every other input model: a 422, never a bcrypt crash.
    assert login.status_code == 422
    assert_error(login.json(), "VALIDATION_ERROR")
