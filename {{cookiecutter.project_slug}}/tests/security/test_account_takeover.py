"""A stolen access token, a registration squatted before its owner arrived, or a link mailed to
an address the account has left: none of them keeps or takes the account."""

from httpx import AsyncClient

from app.models.users import User
from tests.conftest import PASSWORD, assert_error
from tests.mail import Mailbox
from tests.urls import LOGIN, ME, REFRESH, REGISTER, url_for

NEW_EMAIL = "moved@example.com"


async def sign_in(client: AsyncClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    answer = await client.post(LOGIN, data={"username": email, "password": password})
    assert answer.status_code == 200, answer.text
    tokens: dict[str, str] = answer.json()
    return tokens


def bearer(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def assert_signed_out(client: AsyncClient, tokens: dict[str, str]) -> None:
    assert (await client.get(ME, headers=bearer(tokens))).status_code == 401
    refresh = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401


async def change_email(client: AsyncClient, tokens: dict[str, str]) -> None:
    body = {"email": NEW_EMAIL, "current_password": PASSWORD}
    answer = await client.patch(ME, json=body, headers=bearer(tokens))
    assert answer.status_code == 200, answer.text


async def test_an_access_token_alone_cannot_change_the_email(
    client: AsyncClient, user: User
) -> None:
    stolen = await sign_in(client, user.email)
    answer = await client.patch(ME, json={"email": NEW_EMAIL}, headers=bearer(stolen))
    assert answer.status_code == 422
    wrong = {"email": NEW_EMAIL, "current_password": "not the password"}
    answer = await client.patch(ME, json=wrong, headers=bearer(stolen))
    assert_error(answer.json(), "WRONG_PASSWORD")
    assert (await client.get(ME, headers=bearer(stolen))).json()["email"] == user.email


async def test_an_email_change_ends_every_session_and_tells_the_old_address(
    client: AsyncClient, user: User, mailbox: Mailbox
) -> None:
    elsewhere, here = await sign_in(client, user.email), await sign_in(client, user.email)
    await change_email(client, here)
    await assert_signed_out(client, elsewhere)
    await assert_signed_out(client, here)
    (notice,) = mailbox.sent_to(user.email)
    assert "was changed" in notice["Subject"]
    assert mailbox.link_token(user.email, "undo-email-change")


async def test_the_undo_link_puts_the_old_address_back_and_ends_the_takers_sessions(
    client: AsyncClient, user: User, mailbox: Mailbox
) -> None:
    await change_email(client, await sign_in(client, user.email))
    taker = await sign_in(client, NEW_EMAIL)
    token = mailbox.link_token(user.email, "undo-email-change")
    undo = await client.post(url_for("undo_email_change"), json={"token": token})
    assert undo.status_code == 204, undo.text
    await assert_signed_out(client, taker)
    me = (await client.get(ME, headers=bearer(await sign_in(client, user.email)))).json()
    assert (me["email"], me["is_verified"]) == (user.email, True)
    again = await client.post(url_for("undo_email_change"), json={"token": token})
    assert_error(again.json(), "INVALID_TOKEN")


async def test_a_reset_link_mailed_before_an_email_change_no_longer_works(
    client: AsyncClient, user: User, mailbox: Mailbox
) -> None:
    asked = await client.post(url_for("request_password_reset"), json={"email": user.email})
    assert asked.status_code == 202
    token = mailbox.link_token(user.email, "reset-password")
    await change_email(client, await sign_in(client, user.email))
    body = {"token": token, "new_password": "taken over at last"}
    answer = await client.post(url_for("confirm_password_reset"), json=body)
    assert_error(answer.json(), "INVALID_TOKEN")


async def test_verifying_an_address_ends_the_sessions_of_whoever_registered_it_first(
    client: AsyncClient, mailbox: Mailbox
) -> None:
    squatter = {"email": "victim@example.com", "password": PASSWORD}
    assert (await client.post(REGISTER, json=squatter)).status_code == 201
    squatter_tokens = await sign_in(client, squatter["email"])
    token = mailbox.link_token(squatter["email"], "verify-email")  # the victim's inbox
    verified = await client.post(url_for("verify_email"), json={"token": token})
    assert verified.status_code == 204
    await assert_signed_out(client, squatter_tokens)
