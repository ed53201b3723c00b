"""Email jobs. Each is safe to run again with the same job id: same link, never sent twice.

The token is committed in one transaction, the email sent after it, and the send recorded in a
second one. A crash between the last two sends that email again on retry; none is ever lost.
"""

from app.core.config import Settings
from app.db.session import Database
from app.emails.messages import email_change_notice
from app.emails.sender import EmailSender
from app.models.user_tokens import TokenPurpose
from app.services.email_verification import EmailVerificationService
from app.services.password_reset import PasswordResetService
from app.services.user_tokens import OutgoingLink, UserTokenService


async def send_password_reset_email(
    email: str, job_id: str, *, database: Database, settings: Settings, sender: EmailSender
) -> None:
    async with database.transaction() as session:
        resets = PasswordResetService(settings)
        link = await resets.prepare_link(session, email, job_id=job_id)
    await deliver(link, database=database, settings=settings, sender=sender)


async def send_verification_email(
    email: str, job_id: str, *, database: Database, settings: Settings, sender: EmailSender
) -> None:
    async with database.transaction() as session:
        verifications = EmailVerificationService(settings)
        link = await verifications.prepare_link(session, email, job_id=job_id)
    await deliver(link, database=database, settings=settings, sender=sender)


async def send_email_change_notice(
    email: str, job_id: str, *, database: Database, settings: Settings, sender: EmailSender
) -> None:
    """Mails `email`, the address an email change replaced, the undo link stored for the job."""
    async with database.transaction() as session:
        tokens = UserTokenService(session, settings)
        link = await tokens.link_for(
            TokenPurpose.EMAIL_CHANGE_UNDO, job_id=job_id, build=email_change_notice
        )
    if link is not None and link.email.to == email:
        await deliver(link, database=database, settings=settings, sender=sender)


async def deliver(
    link: OutgoingLink | None, *, database: Database, settings: Settings, sender: EmailSender
) -> None:
    if link is None:
        return
    await sender.send(link.email)
    async with database.transaction() as session:
        await UserTokenService(session, settings).mark_sent(link.token_id)
