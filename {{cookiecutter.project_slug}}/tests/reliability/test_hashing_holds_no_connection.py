"""bcrypt never runs while the request holds a pooled connection: every flow that hashes reads,
releases, hashes, then writes (a slow step inside a transaction holds its connection throughout)."""

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from app.core.security import HashingAdmission
from tests.conftest import PASSWORD
from tests.reliability.conftest import _client, register_and_login, reset_token
from tests.urls import LOGIN, ME, REGISTER, url_for

NEW_PASSWORD = "a brand new passphrase"
Flow = Callable[[AsyncClient, FastAPI], Awaitable[None]]


@pytest.fixture
def checked_out_while_hashing(live_app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many pooled connections were checked out each time bcrypt was about to run."""
    seen: list[int] = []
    run = HashingAdmission.run

    async def observed(self: HashingAdmission, function: Callable[..., Any], *args: object) -> Any:
        seen.append(live_app.state.db.engine.pool.checkedout())
        return await run(self, function, *args)

    monkeypatch.setattr(HashingAdmission, "run", observed)
    return seen


def new_email() -> str:
    return f"hash-{uuid.uuid4().hex[:8]}@example.com"


async def register(client: AsyncClient, _: FastAPI) -> None:
    body = {"email": new_email(), "password": PASSWORD}
    assert (await client.post(REGISTER, json=body)).status_code == 201


async def login(client: AsyncClient, _: FastAPI) -> None:
    email = new_email()
    await register_and_login(client, email)
    form = {"username": email, "password": PASSWORD}
    assert (await client.post(LOGIN, data=form)).status_code == 200


async def change_password(client: AsyncClient, _: FastAPI) -> None:
    tokens = await register_and_login(client, new_email())
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    change = {"password": NEW_PASSWORD, "current_password": PASSWORD}
    assert (await client.patch(ME, json=change, headers=auth)).status_code == 200


async def reset_password(client: AsyncClient, app: FastAPI) -> None:
    email = new_email()
    await register_and_login(client, email)
    body = {"token": await reset_token(app, email), "new_password": NEW_PASSWORD}
    confirm = await client.post(url_for("confirm_password_reset"), json=body)
    assert confirm.status_code == 204, confirm.text


@pytest.mark.parametrize("flow", [register, login, change_password, reset_password])
async def test_no_connection_is_checked_out_while_a_password_is_hashed(
    live_app: FastAPI, checked_out_while_hashing: list[int], flow: Flow
) -> None:
    async with _client(live_app) as client:
        await flow(client, live_app)
    assert checked_out_while_hashing, "the flow hashed nothing"
    assert set(checked_out_while_hashing) == {0}
