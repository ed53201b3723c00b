"""Stolen or outlived sessions: rotation, reuse detection, logout, logout-all, password change.

Access tokens are short-lived JWTs, but not purely stateless: each carries the user's
`token_version`, and logout-all, a password change or a deactivation bump it, so every access
token issued before that moment stops working at once instead of living out its 15 minutes.
A plain logout ends one refresh-token family; that session's access token expires on its own.
"""

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.users import User
from tests.conftest import PASSWORD
from tests.security.attacks import assert_unauthorized, bearer, login
from tests.urls import LOGIN, LOGOUT, LOGOUT_ALL, ME, REFRESH, USERS

NEW_PASSWORD = "a completely new passphrase"


async def test_refresh_token_reuse_revokes_the_family(client: AsyncClient, user: User) -> None:
    """A thief replays an already-rotated token: the thief and the victim both lose the family."""
    stolen = await login(client, user.email)
    victim = (await client.post(REFRESH, json={"refresh_token": stolen["refresh_token"]})).json()
    replay = await client.post(REFRESH, json={"refresh_token": stolen["refresh_token"]})
    assert_unauthorized(replay, "Invalid or expired refresh token")
    after = await client.post(REFRESH, json={"refresh_token": victim["refresh_token"]})
    assert_unauthorized(after, "Invalid or expired refresh token")


async def test_reuse_does_not_touch_other_sessions(client: AsyncClient, user: User) -> None:
    laptop = await login(client, user.email)
    phone = await login(client, user.email)
    await client.post(REFRESH, json={"refresh_token": laptop["refresh_token"]})
    await client.post(REFRESH, json={"refresh_token": laptop["refresh_token"]})  # reuse
    still = await client.post(REFRESH, json={"refresh_token": phone["refresh_token"]})
    assert still.status_code == 200


async def test_refresh_token_after_logout_is_refused(client: AsyncClient, user: User) -> None:
    tokens = await login(client, user.email)
    assert (
        await client.post(LOGOUT, json={"refresh_token": tokens["refresh_token"]})
    ).status_code == 204
    again = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert_unauthorized(again, "Invalid or expired refresh token")
    twice = await client.post(LOGOUT, json={"refresh_token": tokens["refresh_token"]})
    assert_unauthorized(twice, "Invalid or expired refresh token")


async def test_access_token_after_logout_all_is_refused(client: AsyncClient, user: User) -> None:
    laptop = await login(client, user.email)
    phone = await login(client, user.email)
    response = await client.post(LOGOUT_ALL, headers=bearer(laptop["access_token"]))
    assert response.status_code == 204
    for tokens in (laptop, phone):
        assert_unauthorized(await client.get(ME, headers=bearer(tokens["access_token"])))
        refresh = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
        assert_unauthorized(refresh, "Invalid or expired refresh token")
    assert (
        await client.get(ME, headers=bearer((await login(client, user.email))["access_token"]))
    ).status_code == 200


async def test_password_change_ends_every_session(client: AsyncClient, user: User) -> None:
    """An attacker holding old tokens loses them the moment the owner changes the password."""
    attacker = await login(client, user.email)
    owner = await login(client, user.email)
    change = {"password": NEW_PASSWORD, "current_password": PASSWORD}
    response = await client.patch(ME, json=change, headers=bearer(owner["access_token"]))
    assert response.status_code == 200
    assert_unauthorized(await client.get(ME, headers=bearer(attacker["access_token"])))
    refresh = await client.post(REFRESH, json={"refresh_token": attacker["refresh_token"]})
    assert_unauthorized(refresh, "Invalid or expired refresh token")
    fresh = await login(client, user.email, NEW_PASSWORD)
    assert (await client.get(ME, headers=bearer(fresh["access_token"]))).status_code == 200


async def test_reactivation_does_not_revive_old_tokens(
    client: AsyncClient, user: User, admin_headers: dict[str, str]
) -> None:
    tokens = await login(client, user.email)
    await client.patch(f"{USERS}/{user.id}", json={"is_active": False}, headers=admin_headers)
    await client.patch(f"{USERS}/{user.id}", json={"is_active": True}, headers=admin_headers)
    assert_unauthorized(await client.get(ME, headers=bearer(tokens["access_token"])))
    refresh = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert_unauthorized(refresh, "Invalid or expired refresh token")


async def test_refresh_of_a_deactivated_user_is_refused(
    client: AsyncClient, user: User, session: AsyncSession
) -> None:
    tokens = await login(client, user.email)
    user.is_active = False
    await session.commit()
    refresh = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert_unauthorized(refresh, "Invalid or expired refresh token")


async def test_deactivated_user_cannot_log_in(
    client: AsyncClient, user: User, session: AsyncSession
) -> None:
    user.is_active = False
    await session.commit()
    response = await client.post(LOGIN, data={"username": user.email, "password": PASSWORD})
    assert_unauthorized(response, "Incorrect email or password")
