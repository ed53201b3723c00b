"""Passwords, tokens and Authorization headers never reach the log output.

The check runs on the real handler that `configure_logging` installs (text and JSON), fed by
real requests and by the careless log calls a future change might add.
"""

import io
import logging
from collections.abc import Callable

import pytest
from fastapi import FastAPI, Request
from httpx import ASGITransport, AsyncClient

from app.models.users import User
from app.observability.logging import ACCESS_LOGGER
from app.schemas.auth import LoginForm
from app.schemas.users import UserCreate
from tests.conftest import PASSWORD
from tests.security.attacks import bearer, login
from tests.urls import API_PREFIX, LOGIN, LOGOUT_ALL, ME, REFRESH

careless = logging.getLogger("app.careless")
NEW_PASSWORD = "another secret passphrase"


@pytest.mark.parametrize("log_json", [False, True], ids=["text", "json"])
async def test_secrets_never_appear_in_logs(
    app_factory: Callable[..., FastAPI],
    log_output: Callable[..., io.StringIO],
    user: User,
    log_json: bool,
) -> None:
    app = app_factory(log_level="DEBUG", log_json=log_json, access_log=True)

    async def sloppy(request: Request) -> None:
        careless.info("headers: %s", dict(request.headers))
        careless.info("auth header was %s", request.headers.get("authorization"))
        careless.info("login attempt", extra={"password": PASSWORD, "access_token": "x"})
        careless.info("form %s", {"username": "u", "password": PASSWORD})
        careless.info(
            "payload %s / %r",
            UserCreate(email="a@example.com", password=PASSWORD),
            LoginForm(username="u", password=PASSWORD),
        )
        careless.info(
            "user %(username)s sent %(password)s", {"username": "u", "password": PASSWORD}
        )
        careless.info("token without a prefix: %s", request.headers["authorization"][7:])
        careless.info(f"token in an f-string: {request.headers['authorization'][7:]}")

    app.add_api_route(f"{API_PREFIX}/sloppy", sloppy, methods=["POST"])
    output = log_output("", ACCESS_LOGGER)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        tokens = await login(client, user.email)
        access = tokens["access_token"]
        await client.post(f"{API_PREFIX}/sloppy", headers=bearer(access))
        await client.get(ME, headers=bearer(access + "tampered"))
        rotated = (
            await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
        ).json()
        await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})  # reuse
        change = {"password": NEW_PASSWORD, "current_password": PASSWORD}
        await client.patch(ME, json=change, headers=bearer(rotated["access_token"]))
        await client.post(LOGOUT_ALL, headers=bearer(access))
    logged = output.getvalue()
    assert "app.careless" in logged  # the sloppy lines were written, with values redacted
    assert LOGIN in logged  # access log is on
    for secret in (
        PASSWORD,
        NEW_PASSWORD,
        access,
        tokens["refresh_token"],
        rotated["refresh_token"],
    ):
        assert secret not in logged
    for secret_part in (access.split(".")[2], tokens["refresh_token"].split(".")[2]):
        assert secret_part not in logged  # not even the signature on its own
