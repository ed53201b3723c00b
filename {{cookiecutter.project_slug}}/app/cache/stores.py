{% if cookiecutter.rate_limit_storage == "redis" -%}
"""The cache store: Redis at REDIS_URL, shared by every worker and instance.

Each call is bounded by REDIS_TIMEOUT_SECONDS at the socket and by CACHE_TIMEOUT_SECONDS around
it (app/cache/versioned.py), so a stalled Redis costs a read one bounded wait, never the loop.
"""

from collections.abc import Sequence

from redis.asyncio import Redis

from app.cache.versioned import Cache
from app.core.config import Settings


class RedisStore:
    def __init__(self, url: str, timeout_seconds: float) -> None:
        self.redis = Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
        )

    async def get_many(self, keys: Sequence[str]) -> list[str | None]:
        values: list[str | None] = await self.redis.mget(keys)
        return values

    async def set(self, key: str, value: str, ttl_seconds: float) -> None:
        await self.redis.set(key, value, px=int(ttl_seconds * 1000))

    async def add(self, key: str, value: str, ttl_seconds: float) -> bool:
        return bool(await self.redis.set(key, value, px=int(ttl_seconds * 1000), nx=True))

    async def close(self) -> None:
        await self.redis.aclose()


def build_cache(settings: Settings) -> Cache:
    enabled = settings.cache_enabled
    return Cache(
        RedisStore(settings.redis_url, settings.redis_timeout_seconds) if enabled else None,
        prefix=settings.cache_key_prefix,
        ttl_seconds=settings.cache_ttl_seconds,
        timeout_seconds=settings.cache_timeout_seconds,
        breaker_seconds=settings.cache_breaker_seconds,
    )
{%- else -%}
"""The cache store: this process's memory, so each process caches on its own.

Right for one process only: a write answered by another process cannot invalidate this one's
entries. That is why CACHE_ENABLED is off by default here (docs/operations.md, "Caching").
"""

import time
from collections import OrderedDict
from collections.abc import Sequence

from app.cache.versioned import Cache
from app.core.config import Settings


class MemoryStore:
    """Entries with expiry times; past `max_entries`, the least recently used one goes."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[str, float]] = OrderedDict()

    async def get_many(self, keys: Sequence[str]) -> list[str | None]:
        return [self._get(key) for key in keys]

    async def set(self, key: str, value: str, ttl_seconds: float) -> None:
        self._entries[key] = (value, time.monotonic() + ttl_seconds)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def add(self, key: str, value: str, ttl_seconds: float) -> bool:
        if self._get(key) is not None:
            return False
        await self.set(key, value, ttl_seconds)
        return True

    async def close(self) -> None:
        self._entries.clear()

    def _get(self, key: str) -> str | None:
        found = self._entries.get(key)
        if found is None:
            return None
        value, expires_at = found
        if time.monotonic() >= expires_at:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value


def build_cache(settings: Settings) -> Cache:
    return Cache(
        MemoryStore(settings.cache_max_entries) if settings.cache_enabled else None,
        prefix=settings.cache_key_prefix,
        ttl_seconds=settings.cache_ttl_seconds,
        timeout_seconds=settings.cache_timeout_seconds,
        breaker_seconds=settings.cache_breaker_seconds,
    )
{%- endif %}
