"""Races across real connections: uniqueness and refresh rotation must hold under concurrency."""

import asyncio
import uuid

from httpx import AsyncClient

from tests.conftest import PASSWORD
from tests.reliability.conftest import register_and_login
from tests.urls import REFRESH, REGISTER

PARALLEL_REGISTRATIONS = 50
PARALLEL_REFRESHES = 10


async def test_parallel_registrations_of_one_email_create_exactly_one_account(
    live_client: AsyncClient,
) -> None:
    email = f"race-{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "password": PASSWORD}
    responses = await asyncio.gather(
        *(live_client.post(REGISTER, json=body) for _ in range(PARALLEL_REGISTRATIONS))
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * (PARALLEL_REGISTRATIONS - 1)
    assert all(r.json()["error"]["request_id"] for r in responses if r.status_code == 409)


async def test_parallel_refreshes_of_one_token_let_exactly_one_through(
    live_client: AsyncClient,
) -> None:
    tokens = await register_and_login(live_client, f"refresh-{uuid.uuid4().hex[:8]}@example.com")
    body = {"refresh_token": tokens["refresh_token"]}
    responses = await asyncio.gather(
        *(live_client.post(REFRESH, json=body) for _ in range(PARALLEL_REFRESHES))
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [401] * (PARALLEL_REFRESHES - 1)
