"""Reliability tests run real engines and servers on their own database, outside the rolled-back
test transaction, because what they check (outages, races, several processes) spans connections.
"""

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.engine import make_url

from app.core.config import Settings
from app.main import create_app
from app.services.password_reset import PasswordResetService
from tests.conftest import PASSWORD, PROJECT_ROOT, reset_database
from tests.settings import as_environment, make_test_settings
from tests.urls import LOGIN, REGISTER

SECRET_KEY = "reliability-tests-secret-key-0123456789abcdef"
# Generous: on a busy CI machine a cold start (imports, migrations checked) can take a while.
SERVER_START_SECONDS = 60.0


@pytest.fixture(scope="session")
async def reliability_settings(settings: Settings) -> Settings:
    url = make_url(settings.database_url)
    database_url = url.set(database=f"{url.database}_reliability").render_as_string(
        hide_password=False
    )
    await reset_database(database_url)
    # Accounts registered here never follow their verification link (tests/api covers that).
    return make_test_settings(
        database_url=database_url,
        rate_limit_enabled=False,
        secret_key=SECRET_KEY,
        unverified_user_access="full",
        # The races here are about the database: no password check may be turned away as busy
        # (the admission in front of bcrypt has its own test, test_login_storm.py).
        password_hashing_queue=1000,
    )


@pytest.fixture
async def live_client(reliability_settings: Settings) -> AsyncIterator[AsyncClient]:
    """The real app with its real Database (own pool, real commits) on the reliability db."""
    app = create_app(reliability_settings)
    async with app.router.lifespan_context(app), _client(app) as client:
        yield client


@pytest.fixture
async def live_app(reliability_settings: Settings) -> AsyncIterator[FastAPI]:
    """The real app with its real Database, for tests that also reach into its state."""
    app = create_app(reliability_settings)
    async with app.router.lifespan_context(app):
        yield app


def _client(app: FastAPI) -> AsyncClient:
    return AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver")


async def register_and_login(client: AsyncClient, email: str) -> dict[str, str]:
    """Creates an account and returns its token pair."""
    created = await client.post(REGISTER, json={"email": email, "password": PASSWORD})
    assert created.status_code == 201, created.text
    login = await client.post(LOGIN, data={"username": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    tokens: dict[str, str] = login.json()
    return tokens


async def reset_token(app: FastAPI, email: str) -> str:
    """A password-reset token for `email`, as the emailed link would carry it."""
    async with app.state.db.transaction() as session:
        resets = PasswordResetService(app.state.settings)
        link = await resets.prepare_link(session, email, job_id=uuid.uuid4().hex)
    assert link is not None
    found = re.search(r"token=([\w-]+)", link.email.text)
    assert found is not None
    return found.group(1)


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    process: subprocess.Popen[bytes]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_up(server: LiveServer) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        assert server.process.poll() is None, "the server exited while starting"
        try:
            if httpx.get(f"{server.base_url}/health/live", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise TimeoutError(f"{server.base_url} did not come up in {SERVER_START_SECONDS}s")


def start_server(settings: Settings, log: Path) -> LiveServer:
    """One uvicorn process on a free loopback port, configured through the environment."""
    port = _free_port()
    env = {**os.environ, **as_environment(settings)}
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "app.server:serve",
        "--host",
        "127.0.0.1",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(base_url=f"http://127.0.0.1:{port}", process=process)
    try:
        _wait_until_up(server)
    except BaseException:
        stop_server(server)
        raise
    return server


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=10)


@pytest.fixture(scope="session")
def two_servers(
    reliability_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, LiveServer]]:
    logs = tmp_path_factory.mktemp("servers")
    first = start_server(reliability_settings, logs / "first.log")
    try:
        second = start_server(reliability_settings, logs / "second.log")
    except BaseException:
        stop_server(first)
        raise
    yield first, second
    stop_server(second)
    stop_server(first)
