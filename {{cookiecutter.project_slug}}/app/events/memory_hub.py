"""The in-process hub: events reach the streams of this process only (one process, one replica)."""

import json
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Mapping
from typing import Any

from app.core.config import Settings
from app.events.hub import Event, EventHub, EventIds, Replay, id_key, window_after

# Users whose replay windows are kept (at most this many times EVENTS_REPLAY_SIZE events); past
# it the window of the user least recently published to goes.
MAX_USERS_KEPT = 1_000


class MemoryHub(EventHub):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._ids = EventIds()
        self._kept: OrderedDict[uuid.UUID, deque[Event]] = OrderedDict()
        # Before this, events may have been lost (windows dropped, or sent by the process this
        # one replaced): a resume from then by a user without a window is a gap, not silence.
        self._dropped_up_to = (time.time_ns() // 1_000_000, 0)

    async def _send(self, user_id: uuid.UUID, type_: str, data: Mapping[str, Any]) -> None:
        event = Event(self._ids.next(), user_id, type_, json.dumps(data))
        kept = self._kept.setdefault(user_id, deque(maxlen=self.replay_size))
        kept.append(event)
        self._kept.move_to_end(user_id)
        while len(self._kept) > MAX_USERS_KEPT:
            _, dropped = self._kept.popitem(last=False)
            self._dropped_up_to = max(self._dropped_up_to, id_key(dropped[-1].id) or (0, 0))
        self.deliver(event)

    async def replay(self, user_id: uuid.UUID, after: str) -> Replay:
        kept = list(self._kept.get(user_id, ()))
        after_key = id_key(after)
        if not kept and after_key is not None and after_key < self._dropped_up_to:
            return Replay([], complete=False)
        return window_after(kept, after, self.replay_size)
