"""An in-memory rate-limit storage that never starts threads on the request path.

limits' `MemoryStorage` expires keys with a `threading.Timer` that it restarts, from `incr`,
whenever the previous one has fired (every 10 ms under traffic). Starting a thread waits for it
to run, which blocked the event loop for about a millisecond per request under load. This
subclass sweeps expired keys inline instead, at most once a second.
"""

import time

from limits.storage import MemoryStorage

MEMORY_SCHEME = "memory://"
SWEEPING_SCHEME = "sweeping-memory://"
SWEEP_INTERVAL_SECONDS = 1.0


class SweepingMemoryStorage(MemoryStorage):
    STORAGE_SCHEME = ["sweeping-memory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **_: str) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **_)
        self._next_sweep = 0.0

    # Replaces MemoryStorage's private (name-mangled) hook that restarts the Timer thread.
    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_INTERVAL_SECONDS
            getattr(self, "_MemoryStorage__expire_events")()  # noqa: B009  (name-mangled)


def thread_free_storage_uri(storage_uri: str) -> str:
    """Serves `memory://` from the thread-free storage; other storages are left as they are."""
    if storage_uri.startswith(MEMORY_SCHEME):
        return SWEEPING_SCHEME + storage_uri.removeprefix(MEMORY_SCHEME)
    return storage_uri
