"""Forgotten passwords: the single-use link to mail (AccountService.reset_password redeems it)."""

from datetime import timedelta

from app.core.config import Settings
from app.db.session import WriteSession
from app.emails.messages import password_reset_email
from app.models.user_tokens import TokenPurpose
from app.repositories.users import UserRepository
from app.services.user_tokens import OutgoingLink, UserTokenService


class PasswordResetService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def prepare_link(
        self, session: WriteSession, email: str, *, job_id: str
    ) -> OutgoingLink | None:
        """The reset email for `email` if an active account uses it; otherwise None."""
        user = await UserRepository(session).get_by_email(email)
        if user is None or not user.is_active:
            return None
        return await UserTokenService(session, self.settings).prepare_link(
            user,
            TokenPurpose.PASSWORD_RESET,
            job_id=job_id,
            lifetime=timedelta(minutes=self.settings.password_reset_expire_minutes),
            build=password_reset_email,
        )
