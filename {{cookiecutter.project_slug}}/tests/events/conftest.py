"""Event tests run the real app under uvicorn on loopback, on a database of their own: a stream
and the writes it reports are separate requests with real commits, outside any test transaction.
"""

import asyncio
import json
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from app.core.config import Settings, with_database_suffix
from app.core.security import create_token
from app.main import create_app
from tests.conftest import make_user, reset_database
from tests.settings import changed_settings
from tests.urls import ME

# Every wait on the server is bounded: a missing event fails the test, never hangs it.
WAIT_SECONDS = 10.0
EVENTS = "/api/v1/events"


@pytest.fixture(scope="session")
async def events_database(settings: Settings) -> str:
    url = with_database_suffix(settings.database_url, "_events")
    await reset_database(url)
    return url


@pytest.fixture
def events_settings(settings: Settings, events_database: str) -> Callable[..., Settings]:
    """Settings for one served app; several apps built from one call share their event bus."""
    prefix = f"test-{uuid.uuid4().hex}"

    def build(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "database_url": events_database,
            "rate_limit_enabled": False,
            "unverified_user_access": "full",
            "events_heartbeat_seconds": 0.5,
            "events_auth_timeout_seconds": 0.5,
            "cache_key_prefix": f"{prefix}:cache",
{%- if cookiecutter.__redis == "yes" %}
            "events_key_prefix": f"{prefix}:events",
{%- endif %}
        }
        return changed_settings(settings, **(values | overrides))

    return build


@dataclass
class Served:
    app: FastAPI
    base_url: str
    server: uvicorn.Server


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[Served]:
    """`app` under uvicorn on a free loopback port, stopped (streams ended first) on exit."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(WAIT_SECONDS):
            # uvicorn sets a flag; it has no event to wait for.
            while not server.started:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        yield Served(app, f"http://127.0.0.1:{port}", server)
    finally:
        app.state.events.shutdown()  # what SIGTERM does in the served process (app/server.py)
        server.should_exit = True
        await asyncio.wait_for(task, WAIT_SECONDS)
        sock.close()


@pytest.fixture
async def served(events_settings: Callable[..., Settings]) -> AsyncIterator[Served]:
    async with serve(create_app(events_settings())) as running:
        yield running


@dataclass
class Account:
    id: str
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def sign_up(served: Served) -> Account:
    """A new account in the served app's database, with an access token.

    Written straight to the database, not registered and logged in over HTTP: these tests are
    about events, and an account with a token is all they need.
    """
    email = f"events-{uuid.uuid4().hex[:10]}@example.com"
    settings: Settings = served.app.state.settings
    async with served.app.state.db.transaction() as session:
        user = await make_user(session, settings, email=email)
    token = create_token(str(user.id), "access", settings, version=user.token_version).token
    return Account(str(user.id), email, token)


async def rename(served: Served, account: Account, name: str) -> None:
    """Changes the account's name: an `account.updated` event, in every bake."""
    async with httpx.AsyncClient(base_url=served.base_url) as client:
        changed = await client.patch(ME, json={"full_name": name}, headers=account.headers)
        assert changed.status_code == 200, changed.text


@dataclass
class SseEvent:
    event: str
    data: Any
    id: str | None


@dataclass
class EventStream:
    """A server-sent events response read line by line, as a browser's EventSource would."""

    response: httpx.Response
    lines: AsyncIterator[str] = field(init=False)

    def __post_init__(self) -> None:
        self.lines = self.response.aiter_lines()

    async def next(self, within: float = WAIT_SECONDS) -> SseEvent:
        """The next event; heartbeat comments are skipped."""
        fields: dict[str, str] = {}
        async with asyncio.timeout(within):
            async for line in self.lines:
                if line.startswith(":"):
                    continue
                if line:
                    name, _, value = line.partition(": ")
                    fields[name] = value
                elif fields:
                    data = json.loads(fields["data"])
                    return SseEvent(fields.get("event", "message"), data, fields.get("id"))
        raise AssertionError(f"the stream ended; fields so far: {fields}")

    async def next_heartbeat(self, within: float = WAIT_SECONDS) -> None:
        """Waits for a heartbeat comment; an event before it fails the test."""
        async with asyncio.timeout(within):
            async for line in self.lines:
                if line.startswith(":"):
                    return
                assert not line, f"an event instead of a heartbeat: {line}"
        raise AssertionError("the stream ended")


@asynccontextmanager
async def open_stream(
    base_url: str, account: Account, last_event_id: str | None = None
) -> AsyncIterator[EventStream]:
    headers = account.headers | ({"Last-Event-ID": last_event_id} if last_event_id else {})
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=WAIT_SECONDS) as client,
        client.stream("GET", EVENTS, headers=headers) as response,
    ):
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield EventStream(response)
