"""Attacks on the emailed-link flows: enumeration, flooding, and every way to misuse a token."""

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utcnow
from app.core.config import Settings
from app.models.user_tokens import UserToken
from app.models.users import User
from tests.conftest import PASSWORD, assert_error, make_user
from tests.mail import Mailbox

NEW_PASSWORD = "a brand new passphrase"
# Unique per request; and a clock reading, which may tick between the two calls.
VOLATILE_HEADERS = {"x-request-id", "x-ratelimit-reset"}
ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"
EMAIL_ROUTES = ["request_password_reset", "resend_verification"]


async def post(
    app: FastAPI, name: str, body: dict[str, str], *, client: str = "127.0.0.1"
) -> Response:
    """POST from the client address `client` (what every rate limit per client counts)."""
    async with AsyncClient(
        transport=ASGITransport(app=app, client=(client, 40000)), base_url="http://testserver"
    ) as http:
        return await http.post(app.url_path_for(name), json=body)


def comparable(response: Response) -> tuple[int, bytes, dict[str, str]]:
    headers = {k: v for k, v in response.headers.items() if k not in VOLATILE_HEADERS}
    return response.status_code, response.content, headers


@pytest.mark.parametrize("route", ["request_password_reset", "resend_verification"])
async def test_known_and_unknown_addresses_get_identical_answers(
    route: str,
    app_factory: Callable[..., FastAPI],
    session: AsyncSession,
    settings: Settings,
    mailbox: Mailbox,
) -> None:
    known = await make_user(session, settings, email="known@example.com", is_verified=False)
    # A fresh app each: rate-limit headers start from the same count.
    for_known = await post(app_factory(), route, {"email": known.email})
    for_unknown = await post(app_factory(), route, {"email": "nobody@example.com"})
    assert for_known.status_code == 202
    assert comparable(for_known) == comparable(for_unknown)
    resets = [int(r.headers["x-ratelimit-reset"]) for r in (for_known, for_unknown)]
    assert abs(resets[0] - resets[1]) <= 1
    assert len(mailbox.sent_to(known.email)) == 1
    assert mailbox.sent_to("nobody@example.com") == []


@pytest.mark.parametrize("route", EMAIL_ROUTES)
async def test_the_address_cap_stops_emails_whoever_asks_but_never_answers_429(
    route: str,
    app_factory: Callable[..., FastAPI],
    session: AsyncSession,
    settings: Settings,
    mailbox: Mailbox,
) -> None:
    owner = await make_user(session, settings, email="owner@example.com", is_verified=False)
    app = app_factory(rate_limit_email_account="2/hour")
    for email in (owner.email, "nobody@example.com"):
        answers = [
            (await post(app, route, {"email": email}, client=f"192.0.2.{n}")).status_code
            for n in range(3)
        ]
        assert answers == [202, 202, 202]
    assert len(mailbox.sent_to(owner.email)) == 2  # the third asker was answered, not mailed


@pytest.mark.parametrize("route", EMAIL_ROUTES)
async def test_someone_else_spending_the_address_cap_does_not_lock_the_owner_out(
    route: str, app_factory: Callable[..., FastAPI], user: User
) -> None:
    app = app_factory()  # the shipped limits: 10/minute per client, 3/hour;10/day per address
    for _ in range(10):  # everything RATE_LIMIT_AUTH lets one client send
        await post(app, route, {"email": user.email}, client=ATTACKER)
    for_owner = await post(app, route, {"email": user.email}, client=OWNER)
    untouched = await post(app_factory(), route, {"email": "fresh@example.com"}, client=OWNER)
    assert for_owner.status_code == 202
    assert comparable(for_owner) == comparable(untouched)


@pytest.mark.parametrize("route", EMAIL_ROUTES)
async def test_answers_do_not_reveal_that_someone_else_asked_about_the_address(
    route: str, app_factory: Callable[..., FastAPI], user: User
) -> None:
    app = app_factory()
    await post(app, route, {"email": user.email}, client=ATTACKER)
    asked_before = await post(app, route, {"email": user.email}, client=OWNER)
    fresh_app = app_factory()
    never_asked = await post(fresh_app, route, {"email": user.email}, client=OWNER)
    assert comparable(asked_before) == comparable(never_asked)
    assert asked_before.headers["x-ratelimit-limit"] == "10"  # RATE_LIMIT_AUTH, the client's own


# Both orders: the window that refuses may come before or after the one that must not count.
@pytest.mark.parametrize("limits", ["1/second;2/hour", "2/hour;1/second"])
async def test_attempts_refused_by_the_address_cap_count_toward_no_window(
    limits: str,
    app_factory: Callable[..., FastAPI],
    session: AsyncSession,
    settings: Settings,
    mailbox: Mailbox,
) -> None:
    owner = await make_user(session, settings, email="owner@example.com", is_verified=False)
    app = app_factory(rate_limit_email_account=limits)
    for _ in range(4):  # one email; three attempts the one-second window refuses
        await post(app, "request_password_reset", {"email": owner.email})
    await asyncio.sleep(1.1)
    await post(app, "request_password_reset", {"email": owner.email})
    assert len(mailbox.sent_to(owner.email)) == 2  # the hour window counted 2 emails, not 5


async def test_one_client_cannot_spray_addresses(
    app_factory: Callable[..., FastAPI], mailbox: Mailbox
) -> None:
    app = app_factory(rate_limit_auth="2/minute")
    answers = [
        (await post(app, "request_password_reset", {"email": f"u{n}@example.com"})).status_code
        for n in range(3)
    ]
    assert answers == [202, 202, 429]


async def reset_token(app: FastAPI, mailbox: Mailbox, email: str) -> str:
    await post(app, "request_password_reset", {"email": email})
    return mailbox.link_token(email, "reset-password")


async def confirm(app: FastAPI, token: str) -> Response:
    body = {"token": token, "new_password": NEW_PASSWORD}
    return await post(app, "confirm_password_reset", body)


def assert_invalid_token(response: Response) -> None:
    assert response.status_code == 404
    assert_error(response.json(), "INVALID_TOKEN")


async def test_a_reset_token_works_once(app: FastAPI, user: User, mailbox: Mailbox) -> None:
    token = await reset_token(app, mailbox, user.email)
    assert (await confirm(app, token)).status_code == 204
    assert_invalid_token(await confirm(app, token))


async def test_an_expired_reset_token_is_refused(
    app: FastAPI, user: User, mailbox: Mailbox, session: AsyncSession
) -> None:
    token = await reset_token(app, mailbox, user.email)
    await session.execute(update(UserToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    await session.commit()
    assert_invalid_token(await confirm(app, token))


async def test_a_token_of_another_purpose_is_refused(
    app: FastAPI, session: AsyncSession, settings: Settings, mailbox: Mailbox
) -> None:
    user = await make_user(session, settings, email="fresh@example.com", is_verified=False)
    await post(app, "resend_verification", {"email": user.email})
    verification = mailbox.link_token(user.email, "verify-email")
    assert_invalid_token(await confirm(app, verification))
    reset = await reset_token(app, mailbox, user.email)
    assert_invalid_token(await post(app, "verify_email", {"token": reset}))


async def test_a_reset_token_issued_before_a_later_password_change_is_refused(
    app: FastAPI, user: User, mailbox: Mailbox
) -> None:
    first = await reset_token(app, mailbox, user.email)
    second = await reset_token(app, mailbox, user.email)
    assert first != second
    assert (await confirm(app, second)).status_code == 204
    assert_invalid_token(await confirm(app, first))


async def test_a_reset_token_is_void_after_the_password_is_changed_in_the_profile(
    app: FastAPI, user: User, user_headers: dict[str, str], mailbox: Mailbox
) -> None:
    token = await reset_token(app, mailbox, user.email)
    async with AsyncClient(
        transport=ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        changed = await client.patch(
            app.url_path_for("update_me"),
            json={"password": "another passphrase", "current_password": PASSWORD},
            headers=user_headers,
        )
    assert changed.status_code == 200
    assert_invalid_token(await confirm(app, token))


@pytest.mark.parametrize(
    ("token", "status", "code"),
    [
        ("x", 404, "INVALID_TOKEN"),
        ("A" * 43, 404, "INVALID_TOKEN"),
        ("A" * 2049, 422, "VALIDATION_ERROR"),
    ],
)
async def test_a_made_up_token_is_refused(app: FastAPI, token: str, status: int, code: str) -> None:
    response = await confirm(app, token)
    assert response.status_code == status
    assert_error(response.json(), code)


async def test_a_verification_link_does_not_verify_a_changed_address(
    app_factory: Callable[..., FastAPI], session: AsyncSession, settings: Settings, mailbox: Mailbox
) -> None:
    app = app_factory(unverified_user_access="full")
    user = await make_user(session, settings, email="before@example.com", is_verified=False)
    await post(app, "resend_verification", {"email": user.email})
    token = mailbox.link_token(user.email, "verify-email")
    user.email = "after@example.com"
    await session.commit()
    assert_invalid_token(await post(app, "verify_email", {"token": token}))


async def test_only_the_token_hash_is_stored(
    app: FastAPI, user: User, mailbox: Mailbox, session: AsyncSession
) -> None:
    token = await reset_token(app, mailbox, user.email)
    stored = (await session.execute(UserToken.__table__.select())).all()
    assert stored
    assert all(token not in str(value) for row in stored for value in row)
