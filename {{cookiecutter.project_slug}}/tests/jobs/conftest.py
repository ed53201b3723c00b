"""A real taskiq worker process reading a Redis stream of its own, against committed data.

Each test gets a queue name nobody else uses; the stream is deleted afterwards (never a flush).
Rows the test commits are deleted afterwards too.
"""

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from redis.asyncio import Redis
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core.config import Settings
from app.main import create_app
from app.models.users import User
from tests.conftest import PROJECT_ROOT, make_user
from tests.mail import Mailbox
from tests.settings import as_environment

WAIT_SECONDS = 30
# Every address the worker tests commit ends with this; teardown deletes those users.
DOMAIN = "jobs.example.com"


@pytest.fixture
async def job_settings(settings: Settings) -> AsyncIterator[Settings]:
    queue = f"{settings.jobs_queue_name}-{uuid.uuid4().hex[:8]}"
    yield settings.model_copy(
        update={"jobs_queue_name": queue, "rate_limit_key_prefix": f"test-{uuid.uuid4().hex}"}
    )
    async with Redis.from_url(settings.redis_url) as redis:
        await redis.delete(queue)


@pytest.fixture
async def committed_client(
    job_settings: Settings, engine: AsyncEngine
) -> AsyncIterator[tuple[FastAPI, AsyncClient]]:
    """The real app with its own sessions: what it writes is committed, so a worker sees it."""
    app = create_app(job_settings)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as client,
    ):
        yield app, client
    async with AsyncSession(engine) as session:
        await session.execute(delete(User).where(User.email.endswith(f"@{DOMAIN}")))
        await session.commit()


@pytest.fixture
async def committed_user(
    engine: AsyncEngine, job_settings: Settings
) -> Callable[[str], Awaitable[User]]:
    async def create(name: str) -> User:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            return await make_user(session, job_settings, email=f"{name}@{DOMAIN}")

    return create


class Worker:
    """`taskiq worker` as `make worker` runs it, in its own process group so a kill takes it all."""

    def __init__(self, settings: Settings, log: Path) -> None:
        self.settings = settings
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(
        self, *, redeliver_after: float = 30, heartbeat: float = 5, extra: tuple[str, ...] = ()
    ) -> None:
        env = {
            **self.environment(),
            # Every setting (the test mail server's port included), so nothing of the developer's
            # environment or .env reaches the worker.
            **as_environment(self.settings),
            "JOBS_RETRY_DELAY_SECONDS": "0.2",
            "JOBS_REDELIVER_AFTER_SECONDS": str(redeliver_after),
            "JOBS_HEARTBEAT_SECONDS": str(heartbeat),
        }
        command = [sys.executable, "-m", "taskiq", "worker", "app.jobs.broker:broker"]
        command += ["app.jobs.tasks", "--ack-type", "when_executed", "--workers", "1", *extra]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=log, start_new_session=True
            )

    def environment(self) -> dict[str, str]:
        # A temporary folder of its own: the heartbeat file of parallel runs never mixes.
        return {**os.environ, "TMPDIR": str(self.log.parent)}

    def probe(self, check: str) -> subprocess.CompletedProcess[str]:
        """The pod's exec probe (deploy/kubernetes/base/worker.yaml), as the kubelet runs it."""
        command = [sys.executable, "-m", "app.jobs.heartbeat", check]
        return subprocess.run(
            command,
            cwd=PROJECT_ROOT,
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    def signal(self, number: signal.Signals) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, number)

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, nothing acknowledged on the way out."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def worker(job_settings: Settings, tmp_path: Path) -> Iterator[Worker]:
    running = Worker(job_settings, tmp_path / "worker.log")
    yield running
    running.kill()


async def wait_for_mail(mailbox: Mailbox, address: str, worker: Worker, count: int = 1) -> None:
    """Polls the test mail server (bounded); on timeout, the worker's log explains why."""
    for _ in range(WAIT_SECONDS * 10):
        if len(mailbox.sent_to(address)) >= count:
            return
        await asyncio.sleep(0.1)
    pytest.fail(f"no email to {address} within {WAIT_SECONDS}s; worker log:\n{worker.output()}")
