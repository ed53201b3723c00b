"""Forged, tampered and misused access tokens: every one is a 401 with the Bearer challenge."""

from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from httpx import AsyncClient
from jose import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.models.users import User
from tests.security.attacks import access_claims, assert_unauthorized, bearer, login, sign, unsigned
from tests.urls import ME, REFRESH

HS256 = {"alg": "HS256", "typ": "JWT"}
OTHER_KEY = "an-attacker-chosen-key-that-is-long-enough"


def secret(settings: Settings) -> str:
    """The service's own signing key: what a forger who stole it would sign with."""
    return settings.secret_key.get_secret_value()


def ago(seconds: int) -> int:
    return int((datetime.now(UTC) - timedelta(seconds=seconds)).timestamp())


async def test_valid_hand_made_token_is_accepted(
    client: AsyncClient, user: User, settings: Settings
) -> None:
    """Control case: the forger below gets everything right except what each attack changes."""
    token = sign(HS256, access_claims(user, settings), secret(settings))
    response = await client.get(ME, headers=bearer(token))
    assert response.status_code == 200
    assert response.json()["id"] == str(user.id)


async def test_tampered_payload_with_the_old_signature_is_refused(
    client: AsyncClient, user: User, admin: User, settings: Settings
) -> None:
    genuine = sign(HS256, access_claims(user, settings), secret(settings))
    head, _, signature = genuine.split(".")
    forged_body = sign(HS256, access_claims(admin, settings), secret(settings)).split(".")[1]
    response = await client.get(ME, headers=bearer(f"{head}.{forged_body}.{signature}"))
    assert_unauthorized(response, "Could not validate credentials")


async def test_alg_none_is_refused(client: AsyncClient, user: User, settings: Settings) -> None:
    response = await client.get(ME, headers=bearer(unsigned(access_claims(user, settings))))
    assert_unauthorized(response)


async def test_token_signed_with_another_key_is_refused(
    client: AsyncClient, user: User, settings: Settings
) -> None:
    token = sign(HS256, access_claims(user, settings), OTHER_KEY)
    assert_unauthorized(await client.get(ME, headers=bearer(token)))


async def test_hs256_token_whose_header_claims_rs256_is_refused(
    client: AsyncClient, user: User, settings: Settings
) -> None:
    """Algorithm confusion: the header names an algorithm the server does not accept."""
    token = sign({"alg": "RS256", "typ": "JWT"}, access_claims(user, settings), secret(settings))
    assert_unauthorized(await client.get(ME, headers=bearer(token)))


async def test_token_really_signed_with_rs256_is_refused(
    client: AsyncClient, user: User, settings: Settings
) -> None:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    token = jwt.encode(access_claims(user, settings), pem.decode(), algorithm="RS256")
    assert_unauthorized(await client.get(ME, headers=bearer(token)))


async def test_token_signed_with_the_right_key_but_hs512_is_refused(
    client: AsyncClient, user: User, settings: Settings
) -> None:
    token = jwt.encode(access_claims(user, settings), secret(settings), algorithm="HS512")
    assert_unauthorized(await client.get(ME, headers=bearer(token)))


async def test_refresh_token_used_as_access_token_is_refused(
    client: AsyncClient, user: User
) -> None:
    tokens = await login(client, user.email)
    assert_unauthorized(await client.get(ME, headers=bearer(tokens["refresh_token"])))


async def test_access_token_used_as_refresh_token_is_refused(
    client: AsyncClient, user: User
) -> None:
    tokens = await login(client, user.email)
    response = await client.post(REFRESH, json={"refresh_token": tokens["access_token"]})
    assert_unauthorized(response, "Invalid or expired refresh token")


async def test_expired_token_is_refused(
    client: AsyncClient, user: User, settings: Settings
) -> None:
    claims = access_claims(user, settings, iat=ago(3600), exp=ago(60))
    token = sign(HS256, claims, secret(settings))
    assert_unauthorized(await client.get(ME, headers=bearer(token)))


async def test_token_expired_within_the_leeway_is_still_accepted(
    client: AsyncClient, user: User, settings: Settings
) -> None:
    """Clock skew between servers must not log people out; the leeway is a setting (10 s)."""
    assert settings.jwt_leeway_seconds >= 5
    claims = access_claims(user, settings, iat=ago(900), exp=ago(2))
    token = sign(HS256, claims, secret(settings))
    assert (await client.get(ME, headers=bearer(token))).status_code == 200


async def test_token_without_exp_is_refused(
    client: AsyncClient, user: User, settings: Settings
) -> None:
    token = sign(HS256, access_claims(user, settings, exp=None), secret(settings))
    assert_unauthorized(await client.get(ME, headers=bearer(token)))


async def test_token_from_another_issuer_is_refused(
    client: AsyncClient, user: User, settings: Settings
) -> None:
    token = sign(HS256, access_claims(user, settings, iss="other-service"), secret(settings))
    assert_unauthorized(await client.get(ME, headers=bearer(token)))


async def test_token_for_another_audience_is_refused(
    client: AsyncClient, user: User, settings: Settings
) -> None:
    token = sign(HS256, access_claims(user, settings, aud="other-api"), secret(settings))
    assert_unauthorized(await client.get(ME, headers=bearer(token)))


async def test_token_whose_subject_is_not_a_uuid_is_refused(
    client: AsyncClient, user: User, settings: Settings
) -> None:
    claims = access_claims(user, settings, sub="1 OR 1=1")
    assert_unauthorized(await client.get(ME, headers=bearer(sign(HS256, claims, secret(settings)))))


async def test_token_without_version_is_refused(
    client: AsyncClient, user: User, settings: Settings
) -> None:
    """Every access token must carry the user's token version; one without cannot be checked."""
    token = sign(HS256, access_claims(user, settings, ver=None), secret(settings))
    assert_unauthorized(await client.get(ME, headers=bearer(token)))


async def test_token_of_a_deleted_user_is_refused(
    client: AsyncClient, user: User, settings: Settings, session: AsyncSession
) -> None:
    token = sign(HS256, access_claims(user, settings), secret(settings))
    await session.delete(user)
    await session.commit()
    assert_unauthorized(await client.get(ME, headers=bearer(token)))


async def test_token_of_a_deactivated_user_is_refused(
    client: AsyncClient, user: User, settings: Settings, session: AsyncSession
) -> None:
    token = sign(HS256, access_claims(user, settings), secret(settings))
    user.is_active = False
    await session.commit()
    assert_unauthorized(await client.get(ME, headers=bearer(token)))


async def test_huge_authorization_header_is_refused_without_parsing(client: AsyncClient) -> None:
    response = await client.get(ME, headers=bearer("a" * 100_000))
    assert_unauthorized(response)


async def test_bearer_with_an_empty_value_is_refused(client: AsyncClient) -> None:
    response = await client.get(ME, headers={"Authorization": "Bearer "})
    assert_unauthorized(response, "Not authenticated")


async def test_other_authorization_schemes_are_refused(client: AsyncClient, user: User) -> None:
    response = await client.get(ME, headers={"Authorization": "Basic dXNlcjpwYXNzd29yZA=="})
    assert_unauthorized(response, "Not authenticated")


async def test_token_in_the_query_string_is_ignored(client: AsyncClient, user: User) -> None:
    """Tokens in URLs end up in proxy logs and browser history: only the header counts."""
    tokens = await login(client, user.email)
    response = await client.get(ME, params={"access_token": tokens["access_token"]})
    assert_unauthorized(response, "Not authenticated")
