"""The taskiq tasks: thin wrappers that give the email jobs their dependencies in the worker.

Each retries on failure with a growing delay (JOBS_MAX_RETRIES, JOBS_RETRY_DELAY_SECONDS); a
retry keeps its job id, so it mails the same link, and never twice once one was sent.
"""

from typing import Annotated

from fastapi import Request
from starlette.datastructures import State
from taskiq import TaskiqDepends

from app.jobs import emails
from app.jobs.broker import broker


async def get_app_state(request: Annotated[Request, TaskiqDepends()]) -> State:
    """The FastAPI app's state in the worker: settings, database, email sender."""
    state: State = request.app.state
    return state


AppState = Annotated[State, TaskiqDepends(get_app_state)]


@broker.task(task_name="emails.password_reset", retry_on_error=True)
async def send_password_reset_email(email: str, job_id: str, state: AppState) -> None:
    await emails.send_password_reset_email(
        email, job_id, database=state.db, settings=state.settings, sender=state.email
    )


@broker.task(task_name="emails.verification", retry_on_error=True)
async def send_verification_email(email: str, job_id: str, state: AppState) -> None:
    await emails.send_verification_email(
        email, job_id, database=state.db, settings=state.settings, sender=state.email
    )


@broker.task(task_name="emails.email_change_notice", retry_on_error=True)
async def send_email_change_notice(email: str, job_id: str, state: AppState) -> None:
    await emails.send_email_change_notice(
        email, job_id, database=state.db, settings=state.settings, sender=state.email
    )
