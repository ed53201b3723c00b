"""Single-use tokens mailed to users (password reset, email verification, email change undo).

A token is an HMAC of the job that mails it, so a retried job mails the same link instead of a
second one, and only its SHA-256 is stored. Redeeming checks purpose, expiry and single use.
The token is committed before its email leaves, so a link always works once it arrives.
"""

import base64
import hashlib
import hmac
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utcnow
from app.core.config import Settings
from app.core.exceptions import NotFoundError
from app.core.security import MAX_TOKEN_LENGTH, hash_token
from app.emails.sender import Email
from app.models.user_tokens import TokenPurpose, UserToken
from app.models.users import User
from app.repositories.user_tokens import UserTokenRepository
from app.repositories.users import UserRepository

INVALID_TOKEN = "This link is invalid, expired or already used"
EmailBuilder = Callable[[Settings, str, str], Email]


@dataclass(frozen=True, slots=True)
class OutgoingLink:
    """An email carrying a token, ready to send; `mark_sent(token_id)` once it left."""

    email: Email
    token_id: uuid.UUID


def invalid_token() -> NotFoundError:
    """404: the token names a pending step (a reset, a verification, an undo) that does not
    exist for it, or no longer does. A well-formed request, so not a 400 (which would say the
    client sent something malformed); one answer for every case, so a token tells nothing."""
    return NotFoundError(INVALID_TOKEN, code="INVALID_TOKEN")


class UserTokenService:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.settings = settings
        self.users = UserRepository(session)
        self.tokens = UserTokenRepository(session)

    def derive(self, purpose: TokenPurpose, job_id: str) -> str:
        key = self.settings.secret_key.get_secret_value().encode()
        digest = hmac.new(key, f"{purpose.value}:{job_id}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    async def prepare_link(
        self,
        user: User,
        purpose: TokenPurpose,
        *,
        job_id: str,
        lifetime: timedelta,
        build: EmailBuilder,
    ) -> OutgoingLink | None:
        """Issues the job's token (once); None when its email already left. Safe to repeat."""
        await self.issue(user, purpose, job_id=job_id, lifetime=lifetime)
        return await self.link_for(purpose, job_id=job_id, build=build)

    async def issue(
        self,
        user: User,
        purpose: TokenPurpose,
        *,
        job_id: str,
        lifetime: timedelta,
        email: str | None = None,
    ) -> None:
        """Stores the job's token for `email` (the user's address unless given), once."""
        token_hash = hash_token(self.derive(purpose, job_id))
        if await self.tokens.get_by_hash(token_hash, purpose) is None:
            await self.tokens.create(
                user_id=user.id,
                purpose=purpose,
                token_hash=token_hash,
                email=email or user.email,
                user_version=user.token_version,
                expires_at=utcnow() + lifetime,
            )

    async def link_for(
        self, purpose: TokenPurpose, *, job_id: str, build: EmailBuilder
    ) -> OutgoingLink | None:
        """The email carrying the job's stored token; None if none is stored or it already left."""
        token = self.derive(purpose, job_id)
        record = await self.tokens.get_by_hash(hash_token(token), purpose)
        if record is None or record.sent_at is not None:
            return None
        return OutgoingLink(email=build(self.settings, record.email, token), token_id=record.id)

    async def mark_sent(self, token_id: uuid.UUID) -> None:
        record = await self.tokens.get(token_id)
        if record is not None:
            await self.tokens.update(record, sent_at=utcnow())

    async def redeem(self, token: str, purpose: TokenPurpose) -> tuple[UserToken, User]:
        """Marks the token used and returns it with its user; anything off is INVALID_TOKEN."""
        if len(token) > MAX_TOKEN_LENGTH:
            raise invalid_token()
        record = await self.tokens.get_by_hash(hash_token(token), purpose, for_update=True)
        if record is None or record.used_at is not None or record.expires_at <= utcnow():
            raise invalid_token()
        user = await self.users.get_for_update(record.user_id)
        if user is None or not user.is_active:
            raise invalid_token()
        await self.tokens.update(record, used_at=utcnow())
        return record, user
