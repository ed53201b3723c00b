"""The taskiq broker: jobs travel through a Redis stream, acknowledged and deleted after they ran.

Run the worker with `make worker`. It imports the FastAPI app (taskiq-fastapi), so jobs get the
same settings, database and email sender through `TaskiqDepends(Request)` as endpoints do.
"""

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiosmtplib
import taskiq_fastapi
from redis.asyncio import Redis
from redis.exceptions import RedisError
from taskiq import TaskiqEvents, TaskiqMessage, TaskiqState
from taskiq.kicker import AsyncKicker
from taskiq.middlewares import SmartRetryMiddleware
from taskiq_redis import RedisStreamBroker

from app.core.config import Settings, settings_or_exit
from app.core.exceptions import ServiceUnavailableError
from app.jobs.heartbeat import READY, remove_beat, write_beat
from app.observability.request_context import bind_request_id

# A backstop only: acknowledged jobs are deleted at once (ForgetfulStreamBroker).
STREAM_MAX_LENGTH = 100_000
# Workers take turns claiming a dead worker's jobs under a Redis lock; if the worker holding it is
# killed, the lock expires after this long instead of blocking every later claim.
CLAIM_LOCK_SECONDS = 10
# What retries are for: the mail server or the database refusing or unreachable for now. A failed
# attempt of this kind is one log line; anything else (a bug) keeps its traceback.
PASSING_FAILURES = (OSError, aiosmtplib.SMTPException, ServiceUnavailableError)


class PassingFailureInOneLine(logging.Filter):
    """taskiq logs every failed attempt with its traceback (35 lines for a busy mail server)."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, PASSING_FAILURES):
            record.msg, record.args = "Attempt failed: %s: %s", (type(error).__name__, error)
            record.exc_info, record.exc_text = None, None
        return True


logging.getLogger("taskiq.receiver.receiver").addFilter(PassingFailureInOneLine())


class BackoffRetryMiddleware(SmartRetryMiddleware):
    """Waits out the backoff before re-queueing: without a schedule source taskiq would not.

    The failed message stays unacknowledged while waiting, so a worker dying now loses nothing.
    """

    def pre_execute(self, message: TaskiqMessage) -> TaskiqMessage:
        # Each job runs in an asyncio task of its own: its log lines carry the job's id, which
        # its retries keep, where a request's lines carry the request id.
        bind_request_id(message.task_id)
        return message

    async def on_send(
        self, kicker: AsyncKicker[Any, Any], message: TaskiqMessage, delay: float
    ) -> None:
        await asyncio.sleep(delay)
        await super().on_send(kicker, message, delay)


class ForgetfulStreamBroker(RedisStreamBroker):
    """Deletes a job from the stream when it is acknowledged, in the same transaction.

    A job's arguments hold the address it mails; a Redis stream keeps acknowledged entries until
    trimmed, so without this every address ever asked about would sit in Redis in clear text.
    A retry is queued as a new job, so deleting the acknowledged one loses nothing. It replaces
    a private method of taskiq-redis (pinned in pyproject.toml): if an upgrade renames it,
    tests/jobs/test_worker.py (test_the_stream_keeps_no_address_once_its_jobs_ran) fails.
    """

    # `id`, as taskiq-redis names it: listen() passes it by keyword.
    def _ack_generator(self, id: str, queue_name: str) -> Callable[[], Awaitable[None]]:
        async def ack_and_delete() -> None:
            redis = Redis(connection_pool=self.connection_pool)
            async with redis, redis.pipeline(transaction=True) as both:
                both.xack(queue_name, self.consumer_group_name, id)
                both.xdel(queue_name, id)
                await both.execute()

        return ack_and_delete


async def beat(broker: RedisStreamBroker, interval_seconds: float) -> None:
    """Writes the heartbeat the probes read (app/jobs/heartbeat.py) for as long as the loop turns."""
    redis = Redis(connection_pool=broker.connection_pool)
    while True:
        try:
            # A Redis that accepts but never answers must not stop the beats (liveness).
            async with asyncio.timeout(interval_seconds):
                answered = redis.ping()
                if inspect.isawaitable(answered):  # typed for the sync client too: bool | Awaitable
                    await answered
            state = READY
        except (RedisError, OSError) as error:  # TimeoutError is an OSError
            state = f"Redis does not answer: {error!r}"
        write_beat(state, interval_seconds)
        await asyncio.sleep(interval_seconds)


def with_heartbeat(broker: RedisStreamBroker, interval_seconds: float) -> None:
    @broker.on_event(TaskiqEvents.WORKER_STARTUP)
    async def start_beating(state: TaskiqState) -> None:
        state.heartbeat = asyncio.create_task(beat(broker, interval_seconds))

    @broker.on_event(TaskiqEvents.WORKER_SHUTDOWN)
    async def stop_beating(state: TaskiqState) -> None:
        state.heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await state.heartbeat
        remove_beat()  # a worker on its way out is neither ready nor alive


def build_broker(settings: Settings) -> RedisStreamBroker:
    broker = ForgetfulStreamBroker(
        settings.redis_url,
        queue_name=settings.jobs_queue_name,
        consumer_group_name=settings.jobs_queue_name,
        # "0": a new consumer group also reads jobs queued before any worker ever started.
        consumer_id="0",
        # Jobs left unacknowledged this long (their worker died) are claimed by a live worker.
        idle_timeout=int(settings.jobs_redeliver_after_seconds * 1000),
        unacknowledged_lock_timeout=CLAIM_LOCK_SECONDS,
        maxlen=STREAM_MAX_LENGTH,
        socket_connect_timeout=settings.redis_timeout_seconds,
    )
    with_heartbeat(broker, settings.jobs_heartbeat_seconds)
    return broker.with_middlewares(
        BackoffRetryMiddleware(
            default_retry_count=settings.jobs_max_retries,
            default_delay=settings.jobs_retry_delay_seconds,
            use_delay_exponent=True,
            max_delay_exponent=settings.jobs_retry_max_delay_seconds,
        )
    )


broker = build_broker(settings_or_exit())
taskiq_fastapi.init(broker, "app.main:create_app")  # the worker builds the app it serves jobs for
