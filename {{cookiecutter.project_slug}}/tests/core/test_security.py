import asyncio
import base64
import json
import os
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from jose import jwt

from app.core.config import Settings
from app.core.exceptions import ServerBusyError
from app.core.security import (
    HASHING_NICENESS,
    InvalidTokenError,
    create_token,
    decode_token,
    hash_password,
    hash_token,
    hashing_admission,
    verify_password,
)
from tests.settings import changed_settings


async def test_hash_is_bcrypt_and_verifies(settings: Settings) -> None:
    hashed = await hash_password("s3cret password", settings)
    assert hashed.startswith("$2b$")
    assert await verify_password("s3cret password", hashed, settings)
    assert not await verify_password("wrong password", hashed, settings)


async def test_verify_against_no_hash_is_false(settings: Settings) -> None:
    assert not await verify_password("anything at all", None, settings)


async def test_over_long_password_fails_verification_instead_of_raising(settings: Settings) -> None:
    hashed = await hash_password("x" * 72, settings)
    assert not await verify_password("x" * 73, hashed, settings)


async def test_password_with_a_nul_character_fails_verification_instead_of_raising(
    settings: Settings,
) -> None:
    hashed = await hash_password("abcdefgh", settings)
    assert not await verify_password("abc\x00defgh", hashed, settings)


def test_over_long_token_is_refused_before_parsing(settings: Settings) -> None:
    with pytest.raises(InvalidTokenError, match="too long"):
        decode_token("a" * 2049, "access", settings)


def test_access_token_carries_the_version_it_was_issued_with(settings: Settings) -> None:
    token = create_token("user-1", "access", settings, version=7).token
    assert decode_token(token, "access", settings).version == 7


def test_token_round_trip(settings: Settings) -> None:
    issued = create_token("user-1", "refresh", settings, family_id="fam-1")
    claims = decode_token(issued.token, "refresh", settings)
    assert claims.subject == "user-1"
    assert claims.family_id == "fam-1"
    assert claims.token_id == issued.claims.token_id


def test_access_token_is_not_a_refresh_token(settings: Settings) -> None:
    token = create_token("user-1", "access", settings).token
    with pytest.raises(InvalidTokenError):
        decode_token(token, "refresh", settings)


def _forge(settings: Settings, **changes: object) -> str:
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": "user-1",
        "jti": "j",
        "type": "access",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
    }
    key = str(changes.pop("key", settings.secret_key.get_secret_value()))
    claims.update(changes)
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(claims, key, algorithm="HS256")


@pytest.mark.parametrize(
    "changes",
    [
        {"key": "another-key-entirely-another-key-entirely"},
        {"exp": datetime.now(UTC) - timedelta(minutes=5)},
        {"exp": None},
        {"iss": "someone-else"},
        {"aud": "another-api"},
        {"type": "refresh"},
        {"sub": None},
    ],
    ids=["wrong-key", "expired", "no-exp", "issuer", "audience", "type", "no-sub"],
)
def test_tampered_tokens_are_refused(settings: Settings, changes: dict[str, object]) -> None:
    with pytest.raises(InvalidTokenError):
        decode_token(_forge(settings, **changes), "access", settings)


def test_a_token_seen_before_is_not_verified_again(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = create_token("user-id", "access", settings).token
    first = decode_token(token, "access", settings)
    monkeypatch.setattr(jwt, "decode", _no_second_verification)
    assert decode_token(token, "access", settings) is first


def _no_second_verification(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("a remembered token was verified again")


def test_a_remembered_token_still_expires(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = create_token("user-id", "access", settings).token
    claims = decode_token(token, "access", settings)
    leeway = timedelta(seconds=settings.jwt_leeway_seconds)
    just_after = claims.expires_at + leeway + timedelta(seconds=1)
    monkeypatch.setattr("app.core.security.utcnow", lambda: just_after)
    with pytest.raises(InvalidTokenError, match="expired"):
        decode_token(token, "access", settings)


def test_a_remembered_token_is_checked_for_its_type_and_key(settings: Settings) -> None:
    token = create_token("user-id", "access", settings).token
    decode_token(token, "access", settings)
    with pytest.raises(InvalidTokenError):
        decode_token(token, "refresh", settings)
    rotated = changed_settings(settings, secret_key="a-completely-different-secret-key-for-this")
    with pytest.raises(InvalidTokenError):
        decode_token(token, "access", rotated)


def test_alg_none_is_refused(settings: Settings) -> None:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    header = part({"alg": "none", "typ": "JWT"})
    payload = part({"sub": "u", "type": "access", "exp": 9999999999, "jti": "j", "iat": 1})
    with pytest.raises(InvalidTokenError):
        decode_token(f"{header}.{payload}.", "access", settings)


def test_refresh_tokens_are_stored_as_sha256() -> None:
    # FIPS 180-2's test vector: SHA-256("abc"), as lowercase hex.
    assert hash_token("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


class _CountingContext:
    """Stands in for passlib's context and records how many hashes ran at the same time."""

    def __init__(self) -> None:
        self.running = 0
        self.most = 0
        self.lock = threading.Lock()

    def hash(self, password: str) -> str:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.02)  # long enough for concurrent calls to overlap
        with self.lock:
            self.running -= 1
        return "hashed"


@pytest.fixture
def counting_context(monkeypatch: pytest.MonkeyPatch) -> _CountingContext:
    """Every hash goes to a _CountingContext instead of bcrypt."""
    context = _CountingContext()
    monkeypatch.setattr("app.core.security._password_context", lambda rounds: context)
    return context


@pytest.mark.parametrize("concurrency", [1, 2])
async def test_password_hashing_runs_at_most_the_configured_number_at_once(
    settings: Settings, counting_context: _CountingContext, concurrency: int
) -> None:
    limited = settings.model_copy(update={"password_hashing_concurrency": concurrency})
    await asyncio.gather(*(hash_password(f"password {n}", limited) for n in range(6)))
    assert counting_context.most == concurrency


def admission_settings(settings: Settings, **changes: object) -> Settings:
    return settings.model_copy(update={"password_hashing_concurrency": 1, **changes})


async def test_hashing_past_the_queue_is_refused_at_once_with_retry_after(
    settings: Settings, counting_context: _CountingContext
) -> None:
    limited = admission_settings(settings, password_hashing_queue=2)
    outcomes = await asyncio.gather(
        *(hash_password(f"password {n}", limited) for n in range(6)), return_exceptions=True
    )
    refused = [outcome for outcome in outcomes if isinstance(outcome, ServerBusyError)]
    assert outcomes.count("hashed") == 3  # one running, two waiting
    assert len(refused) == 3
    assert all(int(error.headers["Retry-After"]) >= 1 for error in refused)


async def test_a_hash_that_waits_too_long_for_a_slot_is_refused_but_a_free_slot_never_is(
    settings: Settings, counting_context: _CountingContext
) -> None:
    # A wait shorter than any step of the event loop: the first hash finds the slot free and
    # runs however late it gets there; the second finds it taken and is refused.
    limited = admission_settings(settings, password_hashing_wait_seconds=1e-9)
    first, second = await asyncio.gather(
        hash_password("first", limited), hash_password("second", limited), return_exceptions=True
    )
    assert first == "hashed"
    assert isinstance(second, ServerBusyError)


@pytest.mark.skipif(sys.platform != "linux", reason="thread priorities are per thread on Linux")
async def test_hashing_threads_run_at_a_lower_cpu_priority(settings: Settings) -> None:
    def own_priority() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    priority = await hashing_admission(settings).run(own_priority)
    assert priority >= HASHING_NICENESS
