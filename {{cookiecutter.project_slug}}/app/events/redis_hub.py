"""The shared hub: events go through Redis, so a stream gets its user's events from every instance.

Publishing appends the event to the user's capped stream (`<prefix>:user:<id>`, the replay
window, which also numbers it) and then announces it on one pub/sub channel; every instance
listens on that channel and hands each event to its own streams of that user, so each event
reaches each stream once, whichever instance committed it.
"""

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.core.config import Settings
from app.events.hub import Event, EventHub, Replay, window_after

logger = logging.getLogger(__name__)

# A user's replay window expires this long after their last event: no key per user ever seen.
REPLAY_TTL_SECONDS = 24 * 3600
# After the channel's connection fails, wait this long before listening again.
RELISTEN_SECONDS = 1.0


class RedisHub(EventHub):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.prefix = settings.events_key_prefix
        self.channel = f"{self.prefix}:bus"
        timeout = self.timeout_s = settings.redis_timeout_seconds
        self.redis = Redis.from_url(
            settings.redis_url,
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
        )
        # The listener waits for messages as long as none come: no read timeout on its socket.
        self.listener = Redis.from_url(
            settings.redis_url,
            decode_responses=True,
            socket_connect_timeout=timeout,
            health_check_interval=30,
        )
        self._listening: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._first_attempt_done = asyncio.Event()

    async def start(self) -> None:
        """Waits for the first subscription attempt, so events committed once start-up is done
        reach this instance's streams; a Redis that is down only delays start-up by that attempt."""
        self._listening = asyncio.create_task(self._listen())
        # Connecting is bounded by the socket's connect timeout, subscribing by this one.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2 * self.timeout_s):
                await self._first_attempt_done.wait()
        if not self._subscribed.is_set():
            logger.warning("Not yet listening for events on Redis; retrying in the background")

    async def close(self) -> None:
        self.shutdown()
        if self._listening is not None:
            self._listening.cancel()
            await asyncio.gather(self._listening, return_exceptions=True)
        await self.listener.aclose()
        await self.redis.aclose()

    async def _listen(self) -> None:
        while True:
            try:
                async with self.listener.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self.channel)
                    self._subscribed.set()
                    self._first_attempt_done.set()
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            self.deliver(Event.from_json(message["data"]))
            except (RedisError, OSError):
                self._first_attempt_done.set()
                logger.warning("Lost the Redis events channel; listening again", exc_info=True)
                await asyncio.sleep(RELISTEN_SECONDS)

    def _key(self, user_id: uuid.UUID) -> str:
        return f"{self.prefix}:user:{user_id}"

    async def _send(self, user_id: uuid.UUID, type_: str, data: Mapping[str, Any]) -> None:
        key = self._key(user_id)
        encoded = json.dumps(data)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.xadd(
                key,
                {"type": type_, "data": encoded},
                maxlen=self.replay_size,
                approximate=False,  # exact: the window is what EVENTS_REPLAY_SIZE says
            )
            pipe.expire(key, REPLAY_TTL_SECONDS)
            event_id, _ = await pipe.execute()
        event = Event(event_id, user_id, type_, encoded)
        await self.redis.publish(self.channel, event.to_json())

    async def replay(self, user_id: uuid.UUID, after: str) -> Replay:
        entries = await self.redis.xrange(self._key(user_id), "-", "+", count=self.replay_size)
        kept = [
            Event(event_id, user_id, fields["type"], fields["data"]) for event_id, fields in entries
        ]
        return window_after(kept, after, self.replay_size)
