"""Account emails end to end: a real SMTP server receives them and the tests follow their links."""

from collections.abc import Callable

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from app.models.users import User
from tests.conftest import PASSWORD, assert_error
from tests.mail import Mailbox

NEW_PASSWORD = "a brand new passphrase"


def url(app: FastAPI, name: str) -> str:
    return app.url_path_for(name)


async def login(app: FastAPI, client: AsyncClient, email: str, password: str) -> dict[str, str]:
    response = await client.post(url(app, "login"), data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


async def test_register_verify_forgot_and_reset_end_to_end(
    app: FastAPI, client: AsyncClient, mailbox: Mailbox
) -> None:
    email = "ada@example.com"
    registered = await client.post(
        url(app, "register"), json={"email": email, "password": PASSWORD}
    )
    assert registered.status_code == 201
    assert registered.json()["is_verified"] is False
    (welcome,) = mailbox.sent_to(email)
    assert welcome.get_body(preferencelist=("html",)) is not None
    verify_token = mailbox.link_token(email, "verify-email")

    verified = await client.post(url(app, "verify_email"), json={"token": verify_token})
    assert verified.status_code == 204
    old = await login(app, client, email, PASSWORD)
    old_headers = {"Authorization": f"Bearer {old['access_token']}"}
    me = await client.get(url(app, "read_me"), headers=old_headers)
    assert me.json()["is_verified"] is True

    forgot = await client.post(url(app, "request_password_reset"), json={"email": email})
    assert forgot.status_code == 202
    reset_token = mailbox.link_token(email, "reset-password")
    reset = await client.post(
        url(app, "confirm_password_reset"),
        json={"token": reset_token, "new_password": NEW_PASSWORD},
    )
    assert reset.status_code == 204

    assert (await client.get(url(app, "read_me"), headers=old_headers)).status_code == 401
    refreshed = await client.post(url(app, "refresh"), json={"refresh_token": old["refresh_token"]})
    assert refreshed.status_code == 401
    refused = await client.post(url(app, "login"), data={"username": email, "password": PASSWORD})
    assert refused.status_code == 401
    await login(app, client, email, NEW_PASSWORD)


async def test_emails_carry_text_and_html_bodies_with_the_frontend_link(
    app: FastAPI, client: AsyncClient, mailbox: Mailbox, user: User
) -> None:
    await client.post(url(app, "request_password_reset"), json={"email": user.email})
    (message,) = mailbox.sent_to(user.email)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    assert "https://app.example.com/reset-password?token=" in text.get_content()
    assert 'href="https://app.example.com/reset-password?token=' in html.get_content()
    assert "no-reply@example.com" in message["From"]


async def test_resend_mails_a_new_verification_link(
    app: FastAPI, client: AsyncClient, mailbox: Mailbox
) -> None:
    email = "grace@example.com"
    await client.post(url(app, "register"), json={"email": email, "password": PASSWORD})
    resent = await client.post(url(app, "resend_verification"), json={"email": email})
    assert resent.status_code == 202
    first, second = mailbox.sent_to(email)
    assert first["Subject"] == second["Subject"]
    token = mailbox.link_token(email, "verify-email")
    assert (await client.post(url(app, "verify_email"), json={"token": token})).status_code == 204


async def test_verified_users_get_no_verification_email(
    app: FastAPI, client: AsyncClient, mailbox: Mailbox, user: User
) -> None:
    resent = await client.post(url(app, "resend_verification"), json={"email": user.email})
    assert resent.status_code == 202
    assert mailbox.sent_to(user.email) == []


async def test_a_refusing_mail_server_does_not_fail_the_request(
    app: FastAPI, client: AsyncClient, mailbox: Mailbox, user: User
) -> None:
    mailbox.refuse_next = 1
    response = await client.post(url(app, "request_password_reset"), json={"email": user.email})
    assert response.status_code == 202
    assert mailbox.sent_to(user.email) == []


async def test_unverified_users_may_read_but_not_write(
    app: FastAPI, client: AsyncClient, mailbox: Mailbox
) -> None:
    email = "new@example.com"
    await client.post(url(app, "register"), json={"email": email, "password": PASSWORD})
    tokens = await login(app, client, email, PASSWORD)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await client.get(url(app, "read_me"), headers=headers)).status_code == 200
    write = await client.patch(url(app, "update_me"), json={"full_name": "X"}, headers=headers)
    assert write.status_code == 403
    assert_error(write.json(), "EMAIL_NOT_VERIFIED")
    assert (await client.post(url(app, "logout_all"), headers=headers)).status_code == 204


async def test_full_access_setting_lets_unverified_users_write(
    app_factory: Callable[..., FastAPI], mailbox: Mailbox
) -> None:
    app = app_factory(unverified_user_access="full")
    async with AsyncClient(
        transport=ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        email = "free@example.com"
        await client.post(url(app, "register"), json={"email": email, "password": PASSWORD})
        tokens = await login(app, client, email, PASSWORD)
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        write = await client.patch(url(app, "update_me"), json={"full_name": "X"}, headers=headers)
        assert write.status_code == 200
