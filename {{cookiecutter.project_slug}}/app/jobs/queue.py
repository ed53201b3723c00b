"""Email jobs queued for the taskiq worker (`make worker`) once the response is sent.

Queued after the response, so after the request's transaction committed: the worker always finds
what the request wrote. If Redis is unreachable at that moment the job is lost (and logged); once
queued, a job survives API and worker restarts and is retried until it succeeds or runs out.
"""

import asyncio
import logging
import uuid
from collections.abc import Coroutine
from typing import Any

from fastapi import BackgroundTasks, Request
from taskiq import AsyncTaskiqDecoratedTask

from app.core.config import Settings
from app.jobs import tasks

logger = logging.getLogger(__name__)
# A task as taskiq types it: the decorated coroutine function's return value is a coroutine.
EmailTask = AsyncTaskiqDecoratedTask[..., Coroutine[Any, Any, None]]


class EmailJobs:
    def __init__(self, background: BackgroundTasks, *, settings: Settings) -> None:
        self.background = background
        self.settings = settings

    @classmethod
    def for_request(cls, request: Request, background: BackgroundTasks) -> "EmailJobs":
        return cls(background, settings=request.app.state.settings)

    def password_reset(self, email: str) -> None:
        self.background.add_task(self._queue, tasks.send_password_reset_email, email)

    def verification(self, email: str) -> None:
        self.background.add_task(self._queue, tasks.send_verification_email, email)

    def email_change_notice(self, old_email: str, job_id: str) -> None:
        """The undo link already stored under `job_id` (AccountService.update_me)."""
        self.background.add_task(self._queue, tasks.send_email_change_notice, old_email, job_id)

    async def _queue(self, task: EmailTask, email: str, job_id: str | None = None) -> None:
        job_id = job_id or uuid.uuid4().hex
        try:
            kicker = task.kicker().with_labels(queue_name=self.settings.jobs_queue_name)
            # The broker's client has no read timeout (the worker's reads block on purpose): a
            # stalled Redis gets one bounded wait here (connect, then one command), not forever.
            async with asyncio.timeout(2 * self.settings.redis_timeout_seconds):
                await kicker.kiq(email, job_id)
        except Exception:  # the response is gone: log and drop
            logger.exception(
                "Could not queue %s (%s); the email was not sent", task.task_name, job_id
            )
