"""Ending sessions cannot be outrun: once logout-all, a password reset or reuse detection has
answered, no refresh that started before it leaves a working token behind.

A thief refreshes in a loop (each refresh inserts the next token of the family) while the owner
ends the sessions. Without serialisation the revocation's UPDATE cannot see the row an in-flight
refresh has inserted but not yet committed, and that row outlives the revocation.
"""

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.conftest import PASSWORD
from tests.reliability.conftest import _client, register_and_login, reset_token
from tests.urls import LOGIN, LOGOUT_ALL, ME, REFRESH, url_for

TRIALS = 10
Tokens = dict[str, str]
# Ends the owner's sessions: (client, app, owner's email, owner's tokens, thief's first tokens).
Revocation = Callable[[AsyncClient, FastAPI, str, Tokens, Tokens], Awaitable[None]]


def bearer(tokens: Tokens) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def refresh_until(client: AsyncClient, first: Tokens, stop: asyncio.Event) -> list[Tokens]:
    """Rotates the thief's refresh token until told to stop or refused; returns every pair got."""
    issued = [first]
    while not stop.is_set():
        answer = await client.post(REFRESH, json={"refresh_token": issued[-1]["refresh_token"]})
        if answer.status_code != 200:
            break
        issued.append(answer.json())
    return issued


async def logout_all(client: AsyncClient, _: FastAPI, __: str, owner: Tokens, ___: Tokens) -> None:
    assert (await client.post(LOGOUT_ALL, headers=bearer(owner))).status_code == 204


async def confirm_reset(
    client: AsyncClient, app: FastAPI, email: str, _: Tokens, __: Tokens
) -> None:
    body = {"token": await reset_token(app, email), "new_password": "a brand new passphrase"}
    answer = await client.post(url_for("confirm_password_reset"), json=body)
    assert answer.status_code == 204, answer.text


async def reuse_stolen_token(
    client: AsyncClient, _: FastAPI, __: str, ___: Tokens, stolen: Tokens
) -> None:
    # The owner presents the refresh token the thief has already rotated: reuse detected.
    answer = await client.post(REFRESH, json={"refresh_token": stolen["refresh_token"]})
    assert answer.status_code == 401


async def one_trial(client: AsyncClient, app: FastAPI, revoke: Revocation, delay: float) -> None:
    email = f"race-{uuid.uuid4().hex[:8]}@example.com"
    owner = await register_and_login(client, email)
    # The thief's session: its own login (logout-all, reset) or the owner's stolen token (reuse).
    login = await client.post(LOGIN, data={"username": email, "password": PASSWORD})
    thief = login.json() if revoke is not reuse_stolen_token else owner
    stop = asyncio.Event()
    loop = asyncio.create_task(refresh_until(client, thief, stop))
    await asyncio.sleep(delay)  # let some refreshes run, then revoke during one
    await revoke(client, app, email, owner, thief)
    stop.set()  # refreshes already started may finish; none starts after the revocation
    issued = await loop
    last = issued[-1]
    again = await client.post(REFRESH, json={"refresh_token": last["refresh_token"]})
    assert again.status_code == 401, f"a refresh token survived ({len(issued)} rotations)"
    if revoke is reuse_stolen_token:
        return  # revokes the family's refresh tokens; its access tokens run out (SECURITY.md)
    for pair in issued:
        assert (await client.get(ME, headers=bearer(pair))).status_code == 401


@pytest.mark.parametrize("revoke", [logout_all, confirm_reset, reuse_stolen_token])
async def test_no_refresh_in_flight_outlives_the_end_of_the_sessions(
    live_app: FastAPI, revoke: Revocation
) -> None:
    async with _client(live_app) as client:
        for trial in range(TRIALS):
            await one_trial(client, live_app, revoke, delay=0.01 + 0.005 * trial)
