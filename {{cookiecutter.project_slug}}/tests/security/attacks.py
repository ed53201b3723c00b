"""Tools an attacker would use: hand-made tokens, logins, and the answers we expect back."""

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from httpx import AsyncClient, Response

from app.core.config import Settings
from app.models.users import User
from tests.conftest import PASSWORD, assert_error
from tests.urls import LOGIN


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(header: Mapping[str, object], claims: Mapping[str, object], key: str) -> str:
    """Builds an HMAC-SHA256-signed JWT with any header, bypassing every library check."""
    head = _b64(json.dumps(header).encode())
    body = _b64(json.dumps(claims, default=str).encode())
    signature = hmac.new(key.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(signature)}"


def unsigned(claims: Mapping[str, object]) -> str:
    """An `alg: none` token: header and claims, empty signature."""
    head = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{head}.{_b64(json.dumps(claims).encode())}."


def access_claims(user: User, settings: Settings, **changes: object) -> dict[str, object]:
    """Claims of a valid access token for `user`; a change of None drops that claim."""
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": str(user.id),
        "jti": uuid.uuid4().hex,
        "type": "access",
        "ver": user.token_version,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(client: AsyncClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = await client.post(LOGIN, data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    tokens: dict[str, str] = response.json()
    return tokens


def assert_unauthorized(response: Response, message: str | None = None) -> None:
    """401, the Bearer challenge, and the envelope: how every authentication failure looks."""
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert_error(response.json(), "UNAUTHORIZED")
    if message is not None:
        assert response.json()["error"]["message"] == message


def assert_refused(response: Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert_error(response.json(), code)


def assert_invalid_field(response: Response, field: str) -> None:
    """422 in the envelope, naming the offending field."""
    assert_refused(response, 422, "VALIDATION_ERROR")
    locations = [detail["loc"] for detail in response.json()["error"]["details"]]
    assert any(field in loc for loc in locations), locations
