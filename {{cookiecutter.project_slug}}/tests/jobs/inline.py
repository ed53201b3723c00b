"""Runs email jobs inside the request for the API tests, which live in a rolled-back transaction
a worker process cannot see. tests/jobs/test_worker.py sends them through a real worker."""

import uuid
from collections.abc import Awaitable, Callable

from fastapi import BackgroundTasks, Request

from app.jobs.emails import (
    send_email_change_notice,
    send_password_reset_email,
    send_verification_email,
)

EmailJob = Callable[..., Awaitable[None]]


class InlineEmailJobs:
    def __init__(self, request: Request, background: BackgroundTasks) -> None:
        self.state = request.app.state
        self.background = background

    def password_reset(self, email: str) -> None:
        self.background.add_task(self._run, send_password_reset_email, email)

    def verification(self, email: str) -> None:
        self.background.add_task(self._run, send_verification_email, email)

    def email_change_notice(self, old_email: str, job_id: str) -> None:
        self.background.add_task(self._run, send_email_change_notice, old_email, job_id)

    async def _run(self, job: EmailJob, email: str, job_id: str | None = None) -> None:
        state = self.state
        try:
            await job(
                email,
                job_id or uuid.uuid4().hex,
                database=state.db,
                settings=state.settings,
                sender=state.email,
            )
        except Exception:  # a refusing test mail server; the worker tests cover retries
            return
