"""Forgotten passwords: mail a single-use link, then set a new password with it."""

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.security import hash_password
from app.emails.messages import password_reset_email
from app.models.user_tokens import TokenPurpose
from app.repositories.refresh_tokens import RefreshTokenRepository
from app.repositories.users import UserRepository
from app.services.auth import end_all_sessions
from app.services.user_tokens import OutgoingLink, UserTokenService, invalid_token


class PasswordResetService:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.settings = settings
        self.users = UserRepository(session)
        self.refresh_tokens = RefreshTokenRepository(session)
        self.user_tokens = UserTokenService(session, settings)

    async def prepare_link(self, email: str, *, job_id: str) -> OutgoingLink | None:
        """The reset email for `email` if an active account uses it; otherwise None."""
        user = await self.users.get_by_email(email)
        if user is None or not user.is_active:
            return None
        return await self.user_tokens.prepare_link(
            user,
            TokenPurpose.PASSWORD_RESET,
            job_id=job_id,
            lifetime=timedelta(minutes=self.settings.password_reset_expire_minutes),
            build=password_reset_email,
        )

    async def confirm(self, token: str, new_password: str) -> None:
        """Sets the new password and ends every session; the link then stops working."""
        record, user = await self.user_tokens.redeem(token, TokenPurpose.PASSWORD_RESET)
        # Issued before the last password change (or logout-all): that link is stale.
        if record.user_version != user.token_version:
            raise invalid_token()
        hashed = await hash_password(new_password, self.settings)
        # Following the mailed link proves the address too.
        verified = user.is_verified or record.email == user.email
        await self.users.update(user, hashed_password=hashed, is_verified=verified)
        await end_all_sessions(user, self.users, self.refresh_tokens)
