"""Email jobs through a real taskiq worker process and the real Redis: delivery, retries, crashes."""

import asyncio
import re
from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core.config import Settings
from app.models.user_tokens import UserToken
from app.models.users import User
from tests.conftest import PASSWORD
from tests.jobs.conftest import DOMAIN, WAIT_SECONDS, Worker, wait_for_mail
from tests.mail import Mailbox

NEW_PASSWORD = "a brand new passphrase"
Clients = tuple[FastAPI, AsyncClient]


async def test_register_verify_and_reset_through_the_worker(
    committed_client: Clients, worker: Worker, mailbox: Mailbox
) -> None:
    app, client = committed_client
    worker.start()
    email = f"ada@{DOMAIN}"
    registered = await client.post(
        app.url_path_for("register"), json={"email": email, "password": PASSWORD}
    )
    assert registered.status_code == 201
    await wait_for_mail(mailbox, email, worker)
    token = mailbox.link_token(email, "verify-email")
    verified = await client.post(app.url_path_for("verify_email"), json={"token": token})
    assert verified.status_code == 204

    login = {"username": email, "password": PASSWORD}
    old = (await client.post(app.url_path_for("login"), data=login)).json()
    forgot = await client.post(app.url_path_for("request_password_reset"), json={"email": email})
    assert forgot.status_code == 202
    await wait_for_mail(mailbox, email, worker, count=2)
    reset_token = mailbox.link_token(email, "reset-password")
    body = {"token": reset_token, "new_password": NEW_PASSWORD}
    assert (
        await client.post(app.url_path_for("confirm_password_reset"), json=body)
    ).status_code == 204

    me = await client.get(
        app.url_path_for("read_me"), headers={"Authorization": f"Bearer {old['access_token']}"}
    )
    assert me.status_code == 401
    refresh = {"refresh_token": old["refresh_token"]}
    assert (await client.post(app.url_path_for("refresh"), json=refresh)).status_code == 401
    assert (await client.post(app.url_path_for("login"), data=login)).status_code == 401
    login["password"] = NEW_PASSWORD
    assert (await client.post(app.url_path_for("login"), data=login)).status_code == 200


async def test_a_job_that_fails_once_is_retried_and_mails_one_link(
    committed_client: Clients,
    committed_user: Callable[[str], Awaitable[User]],
    worker: Worker,
    mailbox: Mailbox,
    engine: AsyncEngine,
) -> None:
    app, client = committed_client
    user = await committed_user("retry")
    mailbox.refuse_next = 1
    worker.start()
    await client.post(app.url_path_for("request_password_reset"), json={"email": user.email})
    await wait_for_mail(mailbox, user.email, worker)
    assert mailbox.refuse_next == 0  # the first attempt was refused
    assert len(mailbox.sent_to(user.email)) == 1
    output = worker.output()
    assert "Retrying" in output
    # One line for the refused attempt, in the service's format, under the job's id.
    assert "Traceback" not in output
    assert re.search(r"ERROR +\[[0-9a-f]{32}\] .*receiver: Attempt failed: SMTPDataError", output)
    async with AsyncSession(engine) as session:
        tokens = await session.scalar(
            select(func.count()).select_from(UserToken).where(UserToken.user_id == user.id)
        )
    assert tokens == 1  # the retry reused the job's token instead of issuing a second


async def test_killing_the_worker_mid_queue_loses_no_email(
    committed_client: Clients,
    committed_user: Callable[[str], Awaitable[User]],
    worker: Worker,
    mailbox: Mailbox,
) -> None:
    app, client = committed_client
    users = [await committed_user(f"crash{n}") for n in range(4)]
    mailbox.delay_seconds = 1.0  # a slow mail server: one email at a time, a second each
    worker.start(extra=("--max-async-tasks", "1"))
    for user in users:
        response = await client.post(
            app.url_path_for("request_password_reset"), json={"email": user.email}
        )
        assert response.status_code == 202
    await wait_for_mail(mailbox, users[0].email, worker)
    worker.kill()
    delivered = [user for user in users if mailbox.sent_to(user.email)]
    assert len(delivered) < len(users), "the worker finished before it was killed"

    worker.start(redeliver_after=1)
    for user in users:
        await wait_for_mail(mailbox, user.email, worker)


async def test_the_stream_keeps_no_address_once_its_jobs_ran(
    committed_client: Clients,
    committed_user: Callable[[str], Awaitable[User]],
    worker: Worker,
    mailbox: Mailbox,
    job_settings: Settings,
) -> None:
    app, client = committed_client
    user = await committed_user("forgotten")
    mailbox.refuse_next = 1  # the first attempt fails: its retry is a second entry to clean up
    worker.start()
    await client.post(app.url_path_for("request_password_reset"), json={"email": user.email})
    await client.post(app.url_path_for("resend_verification"), json={"email": user.email})
    await wait_for_mail(mailbox, user.email, worker)
    async with Redis.from_url(job_settings.redis_url) as redis:
        for _ in range(WAIT_SECONDS * 10):  # the acknowledgement follows the email
            entries = await redis.xrange(job_settings.jobs_queue_name)
            if not entries:
                break
            await asyncio.sleep(0.1)
    assert user.email not in repr(entries)
    assert entries == []  # nothing else lingers either: a pending job would be visible here


async def test_the_api_is_ready_without_a_worker(committed_client: Clients) -> None:
    app, client = committed_client
    response = await client.get(app.url_path_for("ready"))
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
