"""Password hashing and JWTs. Pure functions of their inputs; no database, no HTTP."""

import asyncio
import functools
import hashlib
import math
import os
import sys
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal, TypeVar

import anyio
from anyio import CapacityLimiter
from jose import jwk, jwt
from jose.exceptions import JOSEError
from passlib.context import CryptContext

from app.core.clock import utcnow
from app.core.config import Settings
from app.core.exceptions import ServerBusyError

T = TypeVar("T")
TokenType = Literal["access", "refresh"]
# Far above any token we issue (~400 bytes); a longer one is refused before any parsing.
MAX_TOKEN_LENGTH = 2048
# bcrypt only reads 72 bytes; longer secrets are refused at the schema, never truncated.
MAX_PASSWORD_BYTES = 72
# Hashing threads' nice value (0 is normal, 19 the lowest priority).
HASHING_NICENESS = 10


class InvalidTokenError(Exception):
    """Any reason a token cannot be trusted. The message is for logs, never for clients."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    subject: str
    token_id: str
    token_type: TokenType
    expires_at: datetime
    family_id: str | None = None
    # Access tokens only: the user's token_version when issued. Bumping it ends them all early.
    version: int | None = None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    claims: TokenClaims


@lru_cache(maxsize=4)
def _password_context(rounds: int) -> CryptContext:
    return CryptContext(schemes=["bcrypt"], deprecated="auto", bcrypt__rounds=rounds)


@lru_cache(maxsize=4)
def _dummy_hash(rounds: int) -> str:
    """A real hash to verify against when the account does not exist (equal timing)."""
    return str(_password_context(rounds).hash(uuid.uuid4().hex))


@lru_cache(maxsize=4)
def _verification_key(secret: str, algorithm: str) -> Any:
    """The HMAC key object, built once: given the bare secret, jose rebuilds it on every decode.
    Tokens naming another algorithm are still refused by `algorithms=[...]`."""
    return jwk.construct(secret, algorithm)


def _yield_the_cpu() -> None:
    """Lowers the calling thread's CPU priority (Linux sets it per thread; elsewhere, skipped).

    Only ever lowered: raising a priority needs privileges the service does not have.
    """
    if sys.platform == "linux":
        thread = threading.get_native_id()
        if os.getpriority(os.PRIO_PROCESS, thread) < HASHING_NICENESS:
            os.setpriority(os.PRIO_PROCESS, thread, HASHING_NICENESS)


class HashingAdmission:
    """Runs bcrypt in its own threads, `slots` at once, with at most `queue` calls waiting.

    bcrypt is pure CPU: with one thread per login the threads outnumber the cores and starve the
    event loop. Past the queue, or after waiting `wait_s` for a slot, a call is refused at once
    (ServerBusyError, a 503 with Retry-After) instead of piling up until clients time out. The
    threads run at a lower CPU priority, so when cores are short the requests win over logins.
    """

    def __init__(self, slots: int, queue: int, wait_s: float) -> None:
        self._slots = CapacityLimiter(slots)
        self._queue = queue
        self._wait_s = wait_s
        self._threads = ThreadPoolExecutor(slots, "bcrypt", initializer=_yield_the_cpu)

    def refuse_if_full(self) -> None:
        """Refuses at once when a call now would be refused: before the work that leads to it."""
        if self._slots.available_tokens == 0 and self._waiting() >= self._queue:
            raise self._refuse()

    async def run(self, function: Callable[..., T], *args: object) -> T:
        self.refuse_if_full()
        await self._take_a_slot()
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._threads, functools.partial(function, *args))
        finally:
            # A cancelled caller frees its slot while its hash finishes; the pool's `slots`
            # threads still cap how many run at once (the next one waits inside the pool).
            self._slots.release()

    async def _take_a_slot(self) -> None:
        # A free slot is taken without a deadline: under CPU pressure the process can stall past
        # `wait_s` before it reaches the wait, and a caller that never had to wait must not be
        # refused for it.
        try:
            self._slots.acquire_nowait()
        except anyio.WouldBlock:
            await self._wait_for_a_slot()

    async def _wait_for_a_slot(self) -> None:
        try:
            with anyio.fail_after(self._wait_s):
                await self._slots.acquire()
        except TimeoutError:
            raise self._refuse() from None

    def _waiting(self) -> int:
        return self._slots.statistics().tasks_waiting

    def _refuse(self) -> ServerBusyError:
        return ServerBusyError(retry_after_seconds=max(1, math.ceil(self._wait_s)))


@lru_cache(maxsize=4)
def _admission(slots: int, queue: int, wait_s: float) -> HashingAdmission:
    # One per process (per configuration): the cores it protects are the process's.
    return HashingAdmission(slots, queue, wait_s)


def hashing_admission(settings: Settings) -> HashingAdmission:
    return _admission(
        settings.password_hashing_concurrency,
        settings.password_hashing_queue,
        settings.password_hashing_wait_seconds,
    )


async def _off_the_loop(settings: Settings, function: Callable[..., T], *args: object) -> T:
    return await hashing_admission(settings).run(function, *args)


async def hash_password(password: str, settings: Settings) -> str:
    context = _password_context(settings.bcrypt_rounds)
    return str(await _off_the_loop(settings, context.hash, password))


def _verify_or_burn(password: str, hashed: str | None, rounds: int) -> bool:
    # Runs in the worker thread, dummy hash included: its first computation is a full bcrypt.
    target = hashed if hashed is not None else _dummy_hash(rounds)
    return bool(_password_context(rounds).verify(password, target)) and hashed is not None


async def verify_password(password: str, hashed: str | None, settings: Settings) -> bool:
    """Checks a password; with `hashed=None` burns the same time and returns False."""
    # bcrypt raises on over-long secrets and NUL bytes (a 500); neither can match a stored hash.
    if len(password.encode()) > MAX_PASSWORD_BYTES or "\x00" in password:
        return False
    return await _off_the_loop(settings, _verify_or_burn, password, hashed, settings.bcrypt_rounds)


def hash_token(token: str) -> str:
    """Refresh tokens are stored as SHA-256: they are long random values, so no salt is needed."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    subject: str,
    token_type: TokenType,
    settings: Settings,
    *,
    family_id: str | None = None,
    version: int = 0,
) -> IssuedToken:
    now = utcnow()
    lifetime = (
        timedelta(minutes=settings.access_token_expire_minutes)
        if token_type == "access"
        else timedelta(days=settings.refresh_token_expire_days)
    )
    claims = TokenClaims(
        subject=subject,
        token_id=uuid.uuid4().hex,
        token_type=token_type,
        expires_at=now + lifetime,
        family_id=family_id,
        version=version if token_type == "access" else None,
    )
    payload: dict[str, Any] = {
        "sub": subject,
        "jti": claims.token_id,
        "type": token_type,
        "iat": now,
        "exp": claims.expires_at,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
    }
    if family_id is not None:
        payload["fam"] = family_id
    if claims.version is not None:
        payload["ver"] = claims.version
    token = jwt.encode(
        payload, settings.secret_key.get_secret_value(), algorithm=settings.jwt_algorithm
    )
    return IssuedToken(token=token, claims=claims)


def decode_token(token: str, expected_type: TokenType, settings: Settings) -> TokenClaims:
    """Verifies signature, algorithm, expiry, issuer, audience and type; anything off raises."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise InvalidTokenError("token too long")
    claims = _verified_claims(
        token,
        expected_type,
        settings.secret_key.get_secret_value(),
        settings.jwt_algorithm,
        settings.jwt_audience,
        settings.jwt_issuer,
        settings.jwt_leeway_seconds,
    )
    # A remembered token is checked against the clock on every use, like a new one.
    if utcnow() > claims.expires_at + timedelta(seconds=settings.jwt_leeway_seconds):
        raise InvalidTokenError("Signature has expired.")
    return claims


# A client sends the same access token with every request, and checking its signature again
# cannot give another answer: verified tokens are remembered (bounded; a forged or broken token
# raises and is never stored). Revocation is not decided here: the caller compares the user's
# token_version and is_active on every request.
@lru_cache(maxsize=4096)
def _verified_claims(  # the arguments are the cache key: all that verification depends on
    token: str,
    expected_type: TokenType,
    secret_key: str,
    algorithm: str,
    audience: str,
    issuer: str,
    leeway_seconds: int,
) -> TokenClaims:
    try:
        payload = jwt.decode(
            token,
            _verification_key(secret_key, algorithm),
            algorithms=[algorithm],
            audience=audience,
            issuer=issuer,
            options={
                "require_exp": True,
                "require_iat": True,
                "require_sub": True,
                "require_jti": True,
                "leeway": leeway_seconds,
            },
        )
    except JOSEError as exc:  # JWKError (algorithm confusion) is not a JWTError
        raise InvalidTokenError(str(exc)) from exc
    if payload.get("type") != expected_type:
        raise InvalidTokenError(f"expected a {expected_type} token")
    family_id = payload.get("fam")
    if expected_type == "refresh" and not isinstance(family_id, str):
        raise InvalidTokenError("refresh token without family")
    version = payload.get("ver")
    # type() rather than isinstance(): bool is an int subclass and `true` is no version.
    if expected_type == "access" and type(version) is not int:
        raise InvalidTokenError("access token without version")
    try:
        expires_at = datetime.fromtimestamp(int(payload["exp"]), UTC)
    except (OverflowError, OSError, ValueError) as exc:  # exp far past year 9999
        raise InvalidTokenError("exp out of range") from exc
    return TokenClaims(
        subject=str(payload["sub"]),
        token_id=str(payload["jti"]),
        token_type=expected_type,
        expires_at=expires_at,
        family_id=family_id,
        version=version if expected_type == "access" else None,
    )
