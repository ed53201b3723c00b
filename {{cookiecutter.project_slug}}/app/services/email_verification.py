"""Email verification: mail a single-use link on registration (or on request), then confirm it."""

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.emails.messages import verification_email
from app.models.user_tokens import TokenPurpose
from app.repositories.users import UserRepository
from app.services.user_tokens import OutgoingLink, UserTokenService, invalid_token


class EmailVerificationService:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.settings = settings
        self.users = UserRepository(session)
        self.user_tokens = UserTokenService(session, settings)

    async def prepare_link(self, email: str, *, job_id: str) -> OutgoingLink | None:
        """The verification email if an active, unverified account uses `email`; else None."""
        user = await self.users.get_by_email(email)
        if user is None or not user.is_active or user.is_verified:
            return None
        return await self.user_tokens.prepare_link(
            user,
            TokenPurpose.EMAIL_VERIFICATION,
            job_id=job_id,
            lifetime=timedelta(hours=self.settings.email_verification_expire_hours),
            build=verification_email,
        )

    async def verify(self, token: str) -> None:
        record, user = await self.user_tokens.redeem(token, TokenPurpose.EMAIL_VERIFICATION)
        # The account's address changed since the link was sent: it proves nothing about the new one.
        if record.email != user.email:
            raise invalid_token()
        await self.users.update(user, is_verified=True)
