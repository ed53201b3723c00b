"""Email jobs. Each runs in its own transaction and is safe to run again with the same job id."""

from app.core.config import Settings
from app.core.email import EmailSender
from app.db.session import Database
from app.services.email_verification import EmailVerificationService
from app.services.password_reset import PasswordResetService


async def send_password_reset_email(
    email: str, job_id: str, *, database: Database, settings: Settings, sender: EmailSender
) -> None:
    async with database.transaction() as session:
        service = PasswordResetService(session, settings)
        await service.send_link(email, job_id=job_id, sender=sender)


async def send_verification_email(
    email: str, job_id: str, *, database: Database, settings: Settings, sender: EmailSender
) -> None:
    async with database.transaction() as session:
        service = EmailVerificationService(session, settings)
        await service.send_link(email, job_id=job_id, sender=sender)
