"""The event hub: which open streams hear an event, and how far a stream may fall behind.

Services publish an event for one user after their transaction commits (`after_commit`); the
hub hands it to that user's streams in this process (and, with a shared bus, in every other
one). Each stream has a bounded queue: a stream whose client does not read falls behind, fills
it and is dropped, so a stalled client costs at most EVENTS_QUEUE_SIZE events of memory. Each
user's last EVENTS_REPLAY_SIZE events are kept so a reconnect with Last-Event-ID gets what it
missed. Transports (SSE, WebSocket: app/api/v1/endpoints/events.py) read `stream()`.
"""

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from app.core.config import Settings
from app.core.exceptions import TooManyStreamsError
from app.observability.metrics import (
    EVENT_STREAMS_CLOSED,
    EVENT_STREAMS_OPEN,
    EVENT_STREAMS_REFUSED,
    EVENTS_PUBLISHED,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Event:
    # "<milliseconds>-<sequence>", increasing per user: what a client sends back as Last-Event-ID.
    id: str
    user_id: uuid.UUID
    type: str  # "item.created", "account.updated" ...
    # The payload as JSON text, encoded once per event: a user's streams all send these bytes.
    data: str

    def to_json(self) -> str:
        return self.message(id=self.id, user_id=str(self.user_id), type=self.type)

    def message(self, **fields: str) -> str:
        """A JSON object of `fields` and this event's data, which is not decoded to do it."""
        head = json.dumps(fields)
        return f'{head[:-1]}, "data": {self.data}}}'

    @classmethod
    def from_json(cls, text: str) -> "Event":
        raw = json.loads(text)
        return cls(raw["id"], uuid.UUID(raw["user_id"]), raw["type"], json.dumps(raw["data"]))


@dataclass(frozen=True, slots=True)
class Closed:
    """The last thing a stream yields: why the server ends it (slow_consumer, token, shutdown)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """Yielded every EVENTS_HEARTBEAT_SECONDS once the token has been checked again."""


@dataclass(frozen=True, slots=True)
class ReplayGap:
    """Events after Last-Event-ID left the replay window: the client should reload its state."""


@dataclass(frozen=True, slots=True)
class Replay:
    events: list[Event]
    complete: bool  # False: older events than these were missed and are gone


class Publisher(Protocol):
    """What services need of the hub: publish one event for one user (after the commit)."""

    async def publish(self, user_id: uuid.UUID, type_: str, data: Mapping[str, Any]) -> None: ...


def id_key(event_id: str) -> tuple[int, int] | None:
    """The order of an event id; None for text that is not one (a client's made-up header)."""
    millis, _, sequence = event_id.partition("-")
    if not (millis.isdigit() and sequence.isdigit()):
        return None
    return int(millis), int(sequence)


class Subscription:
    """One open stream of one user: a bounded queue of events for it, and how to abort it."""

    def __init__(self, user_id: uuid.UUID, transport: str, queue_size: int) -> None:
        self.user_id = user_id
        self.transport = transport
        self.queue: asyncio.Queue[Event | Closed] = asyncio.Queue(queue_size)
        # Set by the transport: ends a send stuck on a client that stopped reading.
        self.abort: Callable[[], None] | None = None
        self.closed: str | None = None

    def close(self, reason: str) -> None:
        """Frees the queued events and leaves only the reason for the reader."""
        self.closed = reason
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(Closed(reason))


class EventHub:
    """Streams registered in this process; `publish` and `replay` come from the subclass."""

    def __init__(self, settings: Settings) -> None:
        self.heartbeat_seconds = settings.events_heartbeat_seconds
        self.max_per_user = settings.events_max_streams_per_user
        self.max_per_instance = settings.events_max_streams_per_instance
        self.queue_size = settings.events_queue_size
        self.replay_size = settings.events_replay_size
        self._streams: dict[uuid.UUID, set[Subscription]] = {}
        self._open = 0
        self.closing = False

    @property
    def open_streams(self) -> int:
        return self._open

    async def start(self) -> None:
        """Called once the app starts (the lifespan)."""

    async def close(self) -> None:
        self.shutdown()

    async def publish(self, user_id: uuid.UUID, type_: str, data: Mapping[str, Any]) -> None:
        """Sends the event to the user's streams; a failure is logged, never raised: the write
        it announces has committed already."""
        try:
            await self._send(user_id, type_, data)
        except Exception:
            EVENTS_PUBLISHED.labels("failed").inc()
            logger.warning("Event %s for user %s was not published", type_, user_id, exc_info=True)
            return
        EVENTS_PUBLISHED.labels("sent").inc()

    async def _send(self, user_id: uuid.UUID, type_: str, data: Mapping[str, Any]) -> None:
        raise NotImplementedError

    async def replay(self, user_id: uuid.UUID, after: str) -> Replay:
        raise NotImplementedError

    def subscribe(self, user_id: uuid.UUID, transport: str) -> Subscription:
        """A new stream for `user_id`, or TooManyStreamsError (429) past either cap."""
        streams = self._streams.setdefault(user_id, set())
        cap = None
        if self._open >= self.max_per_instance or self.closing:
            cap = "instance"
        elif len(streams) >= self.max_per_user:
            cap = "user"
        if cap is not None:
            EVENT_STREAMS_REFUSED.labels(cap).inc()
            raise TooManyStreamsError(cap)
        subscription = Subscription(user_id, transport, self.queue_size)
        streams.add(subscription)
        self._open += 1
        EVENT_STREAMS_OPEN.labels(transport).inc()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        streams = self._streams.get(subscription.user_id, set())
        if subscription not in streams:
            return
        streams.discard(subscription)
        if not streams:
            del self._streams[subscription.user_id]
        self._open -= 1
        EVENT_STREAMS_OPEN.labels(subscription.transport).dec()

    def deliver(self, event: Event) -> None:
        """Queues `event` for its user's streams here; a stream whose queue is full is dropped."""
        for subscription in list(self._streams.get(event.user_id, ())):
            try:
                subscription.queue.put_nowait(event)
            except asyncio.QueueFull:
                self.end(subscription, "slow_consumer")

    def end(self, subscription: Subscription, reason: str) -> None:
        """Ends one stream: its reader gets Closed(reason); a send stuck on it is aborted."""
        if subscription.closed is not None:
            return
        EVENT_STREAMS_CLOSED.labels(reason).inc()
        subscription.close(reason)
        self.unsubscribe(subscription)
        if reason == "slow_consumer" and subscription.abort is not None:
            subscription.abort()

    def shutdown(self) -> None:
        """Ends every stream (the server is stopping) and refuses new ones."""
        self.closing = True
        for streams in list(self._streams.values()):
            for subscription in list(streams):
                self.end(subscription, "shutdown")

    async def stream(
        self,
        subscription: Subscription,
        last_event_id: str | None,
        still_allowed: Callable[[], Awaitable[bool]],
    ) -> AsyncIterator[Event | Heartbeat | ReplayGap | Closed]:
        """What one stream sends: the replay after `last_event_id`, then live events and
        heartbeats, until a Closed. `still_allowed` re-checks the token at every heartbeat."""
        seen = None
        if last_event_id is not None:
            # Subscribed first, replayed second: an event published in between is in both, and
            # the live copy is skipped by its id.
            replay = await self.replay(subscription.user_id, last_event_id)
            if not replay.complete:
                yield ReplayGap()
            for event in replay.events:
                yield event
            seen = id_key(replay.events[-1].id if replay.events else last_event_id)
        loop = asyncio.get_running_loop()
        next_check = loop.time() + self.heartbeat_seconds
        while True:
            if loop.time() >= next_check:
                if subscription.closed is None and not await still_allowed():
                    self.end(subscription, "token")
                else:
                    next_check = loop.time() + self.heartbeat_seconds
                    yield Heartbeat()
            try:
                async with asyncio.timeout_at(next_check):
                    item = await subscription.queue.get()
            except TimeoutError:
                continue
            if isinstance(item, Closed):
                yield item
                return
            key = id_key(item.id)
            if seen is None or (key is not None and key > seen):
                yield item


def window_after(kept: list[Event], after: str, replay_size: int) -> Replay:
    """The kept events after `after`; incomplete when the window is full and starts later."""
    after_key = id_key(after)
    if after_key is None:
        return Replay([], complete=False)
    newer = [event for event in kept if (id_key(event.id) or (0, 0)) > after_key]
    trimmed = len(kept) >= replay_size and bool(kept) and (id_key(kept[0].id) or (0, 0)) > after_key
    return Replay(newer, complete=not trimmed)


class EventIds:
    """Increasing ids for the events one process numbers: milliseconds, then a sequence."""

    def __init__(self) -> None:
        self._last = (0, 0)

    def next(self) -> str:
        millis = time.time_ns() // 1_000_000
        last_millis, sequence = self._last
        self._last = (millis, 0) if millis > last_millis else (last_millis, sequence + 1)
        return f"{self._last[0]}-{self._last[1]}"
