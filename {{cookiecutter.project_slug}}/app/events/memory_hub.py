"""The in-process hub: events reach the streams of this process only (one process, one replica)."""

import json
import uuid
from collections import OrderedDict, deque
from collections.abc import Mapping
from typing import Any

from app.core.config import Settings
from app.events.hub import Event, EventHub, EventIds, Replay, window_after

# Users whose replay windows are kept; past it the least recently published-to user's goes.
MAX_USERS_KEPT = 10_000


class MemoryHub(EventHub):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._ids = EventIds()
        self._kept: OrderedDict[uuid.UUID, deque[Event]] = OrderedDict()

    async def _send(self, user_id: uuid.UUID, type_: str, data: Mapping[str, Any]) -> None:
        event = Event(self._ids.next(), user_id, type_, json.dumps(data))
        kept = self._kept.setdefault(user_id, deque(maxlen=self.replay_size))
        kept.append(event)
        self._kept.move_to_end(user_id)
        while len(self._kept) > MAX_USERS_KEPT:
            self._kept.popitem(last=False)
        self.deliver(event)

    async def replay(self, user_id: uuid.UUID, after: str) -> Replay:
        kept = list(self._kept.get(user_id, ()))
        return window_after(kept, after, self.replay_size)
