"""Guessing passwords and probing for accounts.

The login answer is the same for an unknown email and a wrong password (and costs the same: a
dummy bcrypt hash is verified). Attempts are limited per client address (password spraying
from one machine) and per target account (one account attacked from many machines).
"""

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from passlib.context import CryptContext

from app.models.users import User
from tests.conftest import PASSWORD
from tests.security.attacks import assert_refused, assert_unauthorized
from tests.urls import LOGIN, REGISTER


@asynccontextmanager
async def client_from(app: FastAPI, address: str) -> AsyncIterator[AsyncClient]:
    transport = ASGITransport(app=app, client=(address, 40000))
    async with AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def random_address() -> str:
    """A fresh address per test, so limits never carry over between tests (even in a shared storage)."""
    raw = uuid.uuid4().bytes
    return f"10.{raw[0]}.{raw[1]}.{raw[2]}"


def comparable(response: Response) -> tuple[int, dict[str, object], dict[str, str]]:
    body = response.json()
    body["error"].pop("request_id")
    headers = {
        name: value
        for name, value in response.headers.items()
        if name not in {"x-request-id", "date", "x-ratelimit-remaining", "x-ratelimit-reset"}
    }
    return response.status_code, body, headers


async def test_login_does_not_reveal_whether_an_email_exists(
    client: AsyncClient, user: User
) -> None:
    wrong_password = await client.post(
        LOGIN, data={"username": user.email, "password": "wrong-guess-1"}
    )
    unknown_email = await client.post(
        LOGIN, data={"username": "nobody@example.com", "password": "wrong-guess-1"}
    )
    assert_unauthorized(wrong_password, "Incorrect email or password")
    assert comparable(wrong_password) == comparable(unknown_email)


async def test_unknown_email_costs_a_bcrypt_verification_too(
    client: AsyncClient, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Timing: both paths run exactly one bcrypt verification (no timing assert, a count)."""
    calls: list[str] = []
    original = CryptContext.verify

    def counting_verify(self: CryptContext, secret: str, hashed: str) -> bool:
        calls.append(hashed)
        return bool(original(self, secret, hashed))

    monkeypatch.setattr(CryptContext, "verify", counting_verify)
    for email in (user.email, "nobody@example.com"):
        assert_unauthorized(
            await client.post(LOGIN, data={"username": email, "password": "guess-123"})
        )
    assert len(calls) == 2
    assert all(hashed.startswith("$2b$") for hashed in calls)


async def test_registration_probing_is_rate_limited_per_address(
    app_factory: Callable[..., FastAPI], user: User
) -> None:
    """Registration must say "taken" (409) to be usable without an email-verification step;
    what bounds that enumeration is the per-address limit on the auth routes."""
    app = app_factory(rate_limit_auth="3/minute")
    async with client_from(app, random_address()) as client:
        probes = [
            await client.post(
                REGISTER, json={"email": f"probe{i}@example.com", "password": "short"}
            )
            for i in range(3)
        ]
        assert {probe.status_code for probe in probes} == {422}
        response = await client.post(REGISTER, json={"email": user.email, "password": PASSWORD})
    assert_refused(response, 429, "RATE_LIMITED")
    assert int(response.headers["retry-after"]) >= 1


async def test_password_spraying_from_one_address_is_limited(
    app_factory: Callable[..., FastAPI],
) -> None:
    app = app_factory(rate_limit_auth="3/minute", rate_limit_login_account="100/minute")
    async with client_from(app, random_address()) as client:
        for i in range(3):
            guess = await client.post(
                LOGIN, data={"username": f"victim{i}@example.com", "password": "Summer2026!"}
            )
            assert_unauthorized(guess)
        response = await client.post(
            LOGIN, data={"username": "victim9@example.com", "password": "Summer2026!"}
        )
    assert_refused(response, 429, "RATE_LIMITED")
    assert response.headers["x-ratelimit-limit"] == "3"


async def test_brute_force_of_one_account_from_many_addresses_is_limited(
    app_factory: Callable[..., FastAPI], user: User
) -> None:
    app = app_factory(rate_limit_auth="100/minute", rate_limit_login_account="3/minute")
    for attempt in range(3):
        async with client_from(app, random_address()) as client:
            guess = await client.post(
                LOGIN, data={"username": user.email, "password": f"guess-{attempt}"}
            )
            assert_unauthorized(guess)
    async with client_from(app, random_address()) as client:
        # The right password does not help once the account's budget is spent; nor does case.
        response = await client.post(
            LOGIN, data={"username": user.email.upper(), "password": PASSWORD}
        )
        assert_refused(response, 429, "RATE_LIMITED")
        # Other accounts are not affected by the attack on this one.
        other = await client.post(
            LOGIN, data={"username": "someone@example.com", "password": PASSWORD}
        )
        assert_unauthorized(other)


async def test_every_window_of_a_multi_window_limit_is_enforced(
    app_factory: Callable[..., FastAPI], user: User
) -> None:
    """ "100/minute;2/hour" must stop the third attempt: the hour window is not decoration."""
    app = app_factory(rate_limit_auth="100/minute", rate_limit_login_account="100/minute;2/hour")
    async with client_from(app, random_address()) as client:
        for _ in range(2):
            assert_unauthorized(
                await client.post(LOGIN, data={"username": user.email, "password": "nope-nope"})
            )
        response = await client.post(LOGIN, data={"username": user.email, "password": "nope-nope"})
    assert_refused(response, 429, "RATE_LIMITED")
    assert int(response.headers["retry-after"]) > 60
