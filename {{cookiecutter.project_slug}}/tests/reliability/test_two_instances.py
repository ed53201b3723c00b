"""Two app processes on one database agree on which refresh tokens are still good."""

import uuid
from collections.abc import AsyncIterator

import pytest
from httpx import AsyncClient

from tests.conftest import assert_error
from tests.reliability.conftest import LiveServer, register_and_login
from tests.urls import LOGOUT, REFRESH


@pytest.fixture
async def clients(
    two_servers: tuple[LiveServer, LiveServer],
) -> AsyncIterator[tuple[AsyncClient, AsyncClient]]:
    """One HTTP client per server process."""
    first, second = two_servers
    async with (
        AsyncClient(base_url=first.base_url) as one,
        AsyncClient(base_url=second.base_url) as other,
    ):
        yield one, other


async def test_a_refresh_token_revoked_on_one_instance_is_refused_by_the_other(
    clients: tuple[AsyncClient, AsyncClient],
) -> None:
    one, other = clients
    tokens = await register_and_login(one, f"twin-{uuid.uuid4().hex[:8]}@example.com")
    body = {"refresh_token": tokens["refresh_token"]}
    assert (await one.post(LOGOUT, json=body)).status_code == 204

    refused = await other.post(REFRESH, json=body)
    assert refused.status_code == 401
    assert_error(refused.json(), "UNAUTHORIZED")


async def test_a_token_rotated_on_one_instance_cannot_be_replayed_on_the_other(
    clients: tuple[AsyncClient, AsyncClient],
) -> None:
    one, other = clients
    tokens = await register_and_login(one, f"rotate-{uuid.uuid4().hex[:8]}@example.com")
    body = {"refresh_token": tokens["refresh_token"]}
    assert (await one.post(REFRESH, json=body)).status_code == 200
    assert (await other.post(REFRESH, json=body)).status_code == 401
