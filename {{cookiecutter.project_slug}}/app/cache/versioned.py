"""A read cache that never serves a value older than a committed write: versioned entries.

Every cached key has a generation: a random token kept in the store next to the value. A write
replaces the token after its transaction commits (`invalidate`, run by `after_commit`), and
`invalidate_all` replaces one token that every entry also carries (deleting a user removes rows
no service sees go). An entry is served only when it was stored under the tokens the store holds
now, so a reader that loaded the row before a write and stores it after the write's invalidation
stores an entry nobody reads. The tokens are read before the row is loaded: an entry stored
under a new token holds what the database had after that token's write. Tokens are random, not
counters, so a token lost to eviction or expiry never comes back to validate an old entry.

Concurrent misses of one key in one process load it once (the others wait for that load). The
store is optional: each call waits at most CACHE_TIMEOUT_SECONDS, and after a failure the breaker
sends reads straight to the database for CACHE_BREAKER_SECONDS. An invalidation that could not
be sent is kept and sent before this process uses the store again.
"""

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Hashable, Sequence
from functools import partial
from typing import Protocol, TypeVar

from pydantic import BaseModel

from app.core.breaker import StorageBreaker
from app.observability.metrics import CACHE_BREAKER_OPEN, CACHE_LOOKUPS, CACHE_STORE_FAILURES

Model = TypeVar("Model", bound=BaseModel)
T = TypeVar("T")
# A lost token only makes entries unreadable, so generations may expire; a day keeps one per
# row that was read recently, not one per row ever read.
GENERATION_TTL_SECONDS = 24 * 3600.0
ALL = "*"


class Store(Protocol):
    """Where entries and generations live: in process, or shared by every instance."""

    async def get_many(self, keys: Sequence[str]) -> list[str | None]: ...

    async def set(self, key: str, value: str, ttl_seconds: float) -> None: ...

    async def add(self, key: str, value: str, ttl_seconds: float) -> bool:
        """Sets `key` only if it is absent; whether it did."""
        ...

    async def close(self) -> None: ...


class _LeaderFailed(Exception):
    """The load that concurrent misses waited for did not finish: each loads for itself."""


class Cache:
    """`get_or_load` for reads, `invalidate(key)` after a committed write of what `key` holds."""

    def __init__(
        self,
        store: Store | None,
        *,
        prefix: str,
        ttl_seconds: float,
        timeout_seconds: float,
        breaker_seconds: float,
    ) -> None:
        self.store = store  # None: caching is off, every read loads
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds
        self.timeout_seconds = timeout_seconds
        self.breaker = StorageBreaker(
            breaker_seconds,
            name="Cache store",
            consequence="cached reads go to the database",
            on_state=lambda is_open: CACHE_BREAKER_OPEN.set(int(is_open)),
            on_failure=CACHE_STORE_FAILURES.inc,
        )
        self._flights: dict[Hashable, asyncio.Future[BaseModel | None]] = {}
        self._unsent: set[str] = set()  # generations to replace once the store answers

    async def get_or_load(
        self, key: str, model: type[Model], load: Callable[[], Awaitable[Model | None]]
    ) -> Model | None:
        """The value cached under `key` if it is current, else `load()`'s (then cached).

        None (not found) is returned but never cached.
        """
        store = self.store
        if store is None:
            return await load()
        if self._unsent and not await self._send_invalidations(store):
            CACHE_LOOKUPS.labels("skipped").inc()
            return await load()
        names = (self._generation(ALL), self._generation(key))
        value_key = f"{self.prefix}:value:{key}"
        found = await self._guarded(lambda: store.get_many([*names, value_key]))
        if found is None:
            CACHE_LOOKUPS.labels("skipped").inc()
            return await load()
        *generations, entry = found
        stamp = ":".join(token or "" for token in generations)
        if entry is not None and all(generations):
            entry_stamp, _, payload = entry.partition("|")
            if entry_stamp == stamp:
                CACHE_LOOKUPS.labels("hit").inc()
                return model.model_validate_json(payload)
        if not all(generations):
            tokens = await self._guarded(lambda: self._generations(store, names, generations))
            if tokens is None:
                CACHE_LOOKUPS.labels("skipped").inc()
                return await load()
            stamp = ":".join(tokens)
        CACHE_LOOKUPS.labels("miss").inc()
        value = await self._load_once((value_key, stamp), load)
        if value is not None:
            text = f"{stamp}|{value.model_dump_json()}"
            await self._guarded(lambda: store.set(value_key, text, self.ttl_seconds))
        return value

    async def invalidate(self, key: str) -> None:
        """Makes every entry stored for `key` unreadable, in every instance sharing the store."""
        await self._replace(self._generation(key))

    async def invalidate_all(self) -> None:
        """Makes every entry unreadable: for writes no key names (cascading deletes)."""
        await self._replace(self._generation(ALL))

    async def close(self) -> None:
        if self.store is not None:
            await self.store.close()

    def _generation(self, key: str) -> str:
        return f"{self.prefix}:generation:{key}"

    async def _replace(self, name: str) -> None:
        if self.store is None:
            return
        self._unsent.add(name)
        await self._send_invalidations(self.store)

    async def _send_invalidations(self, store: Store) -> bool:
        """Replaces the generations still to replace; whether none is left."""

        async def replace(name: str) -> bool:
            await store.set(name, secrets.token_hex(8), GENERATION_TTL_SECONDS)
            return True

        for name in sorted(self._unsent):
            if not await self._guarded(partial(replace, name)):
                return False
            self._unsent.discard(name)
        return True

    async def _generations(
        self, store: Store, names: Sequence[str], current: Sequence[str | None]
    ) -> list[str] | None:
        """The tokens of `names`, creating the missing ones; read back, as another instance may
        have created one at the same moment."""
        for name, token in zip(names, current, strict=True):
            if token is None:
                await store.add(name, secrets.token_hex(8), GENERATION_TTL_SECONDS)
        tokens = await store.get_many(names)
        return None if None in tokens else [token for token in tokens if token is not None]

    async def _load_once(
        self, flight: Hashable, load: Callable[[], Awaitable[Model | None]]
    ) -> Model | None:
        """`load()`, or the result of the same load already running for the same generations.

        Keyed by the generations too: a read that starts after a write never waits for a load
        that started before it.
        """
        running = self._flights.get(flight)
        if running is not None:
            try:
                value = await asyncio.shield(running)
            except _LeaderFailed:
                return await load()
            return value  # type: ignore[return-value]  # same flight, same model
        future: asyncio.Future[BaseModel | None] = asyncio.get_running_loop().create_future()
        # Marks a failure as seen when nobody waited for it (asyncio would log it otherwise).
        future.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._flights[flight] = future
        try:
            value = await load()
        except BaseException:
            future.set_exception(_LeaderFailed())
            raise
        finally:
            del self._flights[flight]
        future.set_result(value)
        return value

    async def _guarded(self, call: Callable[[], Awaitable[T]]) -> T | None:
        return await self.breaker.guarded(call, self.timeout_seconds)
