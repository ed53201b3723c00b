"""Registration, login and the refresh-token lifecycle (rotation, reuse detection, revocation).

This service opens its own units of work (`Database.reads()` / `Database.transaction()`), one
short unit per step, so that no pooled connection is held while a password is hashed or while
it waits for a hashing slot: read, release, hash, then write.
"""

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

from app.core.clock import utcnow
from app.core.config import Settings
from app.core.exceptions import ConflictError, UnauthorizedError
from app.core.security import (
    InvalidTokenError,
    create_token,
    decode_token,
    hash_password,
    hash_token,
    hashing_admission,
    verify_password,
)
from app.db.session import Database, ReadSession, WriteSession
from app.models.refresh_tokens import RefreshToken
from app.models.users import Account, Principal, User
from app.observability.metrics import LOGIN_FAILURES
from app.repositories.refresh_tokens import RefreshTokenRepository
from app.repositories.users import UserRepository
from app.schemas.auth import TokenPair
from app.schemas.users import UserCreate

logger = logging.getLogger(__name__)

# What an access token is read into: the principal alone, or with the profile (Account).
P = TypeVar("P", bound=Principal)

BAD_CREDENTIALS = "Incorrect email or password"
BAD_REFRESH_TOKEN = "Invalid or expired refresh token"
EMAIL_TAKEN = "An account with this email already exists"


async def end_all_sessions(
    user: User, users: UserRepository, tokens: RefreshTokenRepository
) -> None:
    """Revokes every refresh token and, by bumping the version, every access token of `user`.

    `user` must have been read with `get_for_update`: every transaction that issues or revokes a
    user's tokens takes that row lock first, so a refresh in flight either commits before this
    revocation starts (and its new row is revoked with the rest) or waits and finds its token
    revoked. Without the lock, this UPDATE cannot see a row a refresh inserted but has not yet
    committed, and that token would outlive the revocation.
    """
    await tokens.revoke_all_for_user(user.id)
    await users.update(user, token_version=user.token_version + 1)


class AuthService:
    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings

    async def register(self, data: UserCreate) -> User:
        # Hashed before the transaction opens; a racing duplicate still meets the unique index.
        hashed = await hash_password(data.password, self.settings)
        async with self.database.transaction() as session:
            users = UserRepository(session)
            if await users.get_by_email(data.email) is not None:
                raise ConflictError(EMAIL_TAKEN, code="EMAIL_TAKEN")
            return await users.create(
                email=data.email, hashed_password=hashed, full_name=data.full_name
            )

    async def login(self, email: str, password: str) -> TokenPair:
        """Same answer, same cost, whether the email is unknown or the password is wrong."""
        # A login that cannot be checked in time is turned away before it costs a query.
        hashing_admission(self.settings).refuse_if_full()
        async with self.database.reads() as session:
            user = await UserRepository(session).get_by_email(email.strip().lower())
        valid = await verify_password(
            password, user.hashed_password if user else None, self.settings
        )
        if user is None or not valid or not user.is_active:
            LOGIN_FAILURES.inc()
            raise UnauthorizedError(BAD_CREDENTIALS)
        async with self.database.transaction() as session:
            # The password was checked against the row as read; refuse if it changed since.
            current = await UserRepository(session).get_for_update(user.id)
            if current is None or not _unchanged(current, user):
                LOGIN_FAILURES.inc()
                raise UnauthorizedError(BAD_CREDENTIALS)
            return await self._issue_pair(session, current, family_id=uuid.uuid4())

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotates a refresh token. Presenting a rotated one again revokes its whole family."""
        async with self.database.transaction() as session:
            user, record = await self._valid_record(session, refresh_token)
            if not user.is_active:
                raise UnauthorizedError(BAD_REFRESH_TOKEN)
            record.revoked_at = utcnow()
            return await self._issue_pair(session, user, family_id=record.family_id)

    async def principal_for_access_token(self, token: str | None) -> Principal:
        """Who a valid access token names; 401 for a missing, bad, orphaned or outdated one.

        Outdated: issued before the user's last logout-all, password change or deactivation.
        Read in a unit of its own, before the route's session opens: a route that changes the
        account loads the User again in its own transaction.
        """
        return await self._read_signed_in(token, UserRepository.get_principal)

    async def principal_in_session(self, session: ReadSession, token: str | None) -> Principal:
        """The same, read in the route's own read session: a route that only reads then
        authenticates and answers in one unit (PERFORMANCE.md)."""
        user_id, version = self._access_claims(token)
        return _current(await UserRepository(session).get_principal(user_id), version)

    async def account_for_access_token(self, token: str | None) -> Account:
        """The same, with the profile fields: for routes that answer with the account itself
        (GET /users/me), one read, not a principal and then the user."""
        return await self._read_signed_in(token, UserRepository.get_account)

    async def _read_signed_in(
        self, token: str | None, read: Callable[[UserRepository, uuid.UUID], Awaitable[P | None]]
    ) -> P:
        user_id, version = self._access_claims(token)
        async with self.database.reads() as session:
            found = await read(UserRepository(session), user_id)
        return _current(found, version)

    def _access_claims(self, token: str | None) -> tuple[uuid.UUID, int | None]:
        """The user id and token version of a valid access token; 401 otherwise."""
        if not token:
            raise UnauthorizedError("Not authenticated")
        try:
            claims = decode_token(token, "access", self.settings)
            return uuid.UUID(claims.subject), claims.version
        except (InvalidTokenError, ValueError) as exc:
            raise UnauthorizedError() from exc

    async def logout(self, refresh_token: str) -> None:
        async with self.database.transaction() as session:
            _, record = await self._valid_record(session, refresh_token)
            await RefreshTokenRepository(session).revoke_family(record.family_id)

    async def logout_everywhere(self, signed_in: Principal) -> None:
        async with self.database.transaction() as session:
            users = UserRepository(session)
            user = await users.get_for_update(signed_in.id)
            if user is not None:
                await end_all_sessions(user, users, RefreshTokenRepository(session))

    async def _valid_record(
        self, session: WriteSession, refresh_token: str
    ) -> tuple[User, RefreshToken]:
        """The token's user (row locked: see end_all_sessions) and its unrevoked record."""
        try:
            claims = decode_token(refresh_token, "refresh", self.settings)
            user_id, token_id = uuid.UUID(claims.subject), uuid.UUID(claims.token_id)
        except (InvalidTokenError, ValueError) as exc:
            logger.info("Refused refresh token: %s", exc)
            raise UnauthorizedError(BAD_REFRESH_TOKEN) from exc
        user = await UserRepository(session).get_for_update(user_id)
        tokens = RefreshTokenRepository(session)
        record = await tokens.get_for_update(token_id)
        if (
            user is None
            or record is None
            or record.user_id != user.id
            or record.token_hash != hash_token(refresh_token)
        ):
            raise UnauthorizedError(BAD_REFRESH_TOKEN)
        if record.revoked_at is not None:
            logger.warning("Refresh token reuse detected; revoking family %s", record.family_id)
            await tokens.revoke_family(record.family_id)
            # The request fails, but the revocation must survive the rollback that failure causes.
            await session.commit()
            raise UnauthorizedError(BAD_REFRESH_TOKEN)
        return user, record

    async def _issue_pair(
        self, session: WriteSession, user: User, *, family_id: uuid.UUID
    ) -> TokenPair:
        access = create_token(str(user.id), "access", self.settings, version=user.token_version)
        refresh = create_token(str(user.id), "refresh", self.settings, family_id=str(family_id))
        await RefreshTokenRepository(session).create(
            id=uuid.UUID(refresh.claims.token_id),
            user_id=user.id,
            family_id=family_id,
            token_hash=hash_token(refresh.token),
            expires_at=refresh.claims.expires_at,
        )
        return TokenPair(
            access_token=access.token,
            refresh_token=refresh.token,
            expires_in=self.settings.access_token_expire_minutes * 60,
        )


def _current(found: P | None, version: int | None) -> P:
    """The token's user if it still exists and the token is of its current version; 401 if not."""
    if found is None or version != found.token_version:
        raise UnauthorizedError()
    return found


def _unchanged(current: User, checked: User) -> bool:
    """Whether the account still has the password, version and state a check was made against."""
    return (
        current.hashed_password == checked.hashed_password
        and current.token_version == checked.token_version
        and current.is_active
    )
