"""Email verification: mail a single-use link on registration (or on request), then confirm it."""

from datetime import timedelta

from app.core.config import Settings
from app.db.session import WriteSession
from app.emails.messages import verification_email
from app.models.user_tokens import TokenPurpose
from app.repositories.refresh_tokens import RefreshTokenRepository
from app.repositories.users import UserRepository
from app.services.auth import end_all_sessions
from app.services.user_tokens import OutgoingLink, UserTokenService, invalid_token


class EmailVerificationService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def prepare_link(
        self, session: WriteSession, email: str, *, job_id: str
    ) -> OutgoingLink | None:
        """The verification email if an active, unverified account uses `email`; else None."""
        user = await UserRepository(session).get_by_email(email)
        if user is None or not user.is_active or user.is_verified:
            return None
        return await UserTokenService(session, self.settings).prepare_link(
            user,
            TokenPurpose.EMAIL_VERIFICATION,
            job_id=job_id,
            lifetime=timedelta(hours=self.settings.email_verification_expire_hours),
            build=verification_email,
        )

    async def verify(self, session: WriteSession, token: str) -> None:
        tokens = UserTokenService(session, self.settings)
        record, user = await tokens.redeem(token, TokenPurpose.EMAIL_VERIFICATION)
        # The account's address changed since the link was sent: it proves nothing about the new one.
        if record.email != user.email:
            raise invalid_token()
        users = UserRepository(session)
        await users.update(user, is_verified=True)
        # Sessions opened before the address was proven may belong to whoever registered it
        # first (a pre-registration hijack): they end, and the owner signs in again.
        await end_all_sessions(user, users, RefreshTokenRepository(session))
