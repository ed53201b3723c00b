"""Email jobs run in this process after the response is sent (FastAPI background tasks).

Trade-off: nothing is queued outside the process. If it crashes or restarts between the response
and the send, or the mail server refuses, the email is lost (the failure is logged) and the user
asks again. The answer and its timing never depend on whether the account exists.
"""

import logging
import uuid
from collections.abc import Awaitable, Callable

from fastapi import BackgroundTasks, Request

from app.core.config import Settings
from app.db.session import Database
from app.emails.sender import EmailSender
from app.jobs.emails import (
    send_email_change_notice,
    send_password_reset_email,
    send_verification_email,
)

logger = logging.getLogger(__name__)
EmailJob = Callable[..., Awaitable[None]]


class EmailJobs:
    def __init__(
        self,
        background: BackgroundTasks,
        *,
        database: Database,
        settings: Settings,
        sender: EmailSender,
    ) -> None:
        self.background = background
        self.database = database
        self.settings = settings
        self.sender = sender

    @classmethod
    def for_request(cls, request: Request, background: BackgroundTasks) -> "EmailJobs":
        state = request.app.state
        return cls(background, database=state.db, settings=state.settings, sender=state.email)

    def password_reset(self, email: str) -> None:
        self.background.add_task(self._run, send_password_reset_email, email)

    def verification(self, email: str) -> None:
        self.background.add_task(self._run, send_verification_email, email)

    def email_change_notice(self, old_email: str, job_id: str) -> None:
        """The undo link already stored under `job_id` (AccountService.update_me)."""
        self.background.add_task(self._run, send_email_change_notice, old_email, job_id)

    async def _run(self, job: EmailJob, email: str, job_id: str | None = None) -> None:
        job_id = job_id or uuid.uuid4().hex
        try:
            await job(
                email, job_id, database=self.database, settings=self.settings, sender=self.sender
            )
        except Exception:  # the response is gone: log and drop (see the module docstring)
            logger.exception(
                "Email job %s (%s) failed; the email was not sent", job.__name__, job_id
            )
