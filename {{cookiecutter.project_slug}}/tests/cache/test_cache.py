"""The read cache (app/cache/versioned.py) against a real database row: a read after a committed
write is never stale, concurrent misses load once, and a stalled store costs one bounded wait."""

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from functools import partial

import pytest
from pydantic import BaseModel

from app.cache.versioned import Cache
from app.db.session import Database, after_commit
from app.models.users import User
from app.repositories.users import UserRepository

CONCURRENT_READS = 50
STALL_TIMEOUT_SECONDS = 0.2
BREAKER_SECONDS = 0.5


class Name(BaseModel):
    full_name: str | None


def key_of(user: User) -> str:
    return f"users:{user.id}"


def loader(database: Database, user_id: uuid.UUID) -> Callable[[], Awaitable[Name | None]]:
    async def load() -> Name | None:
        async with database.reads() as session:
            row = await UserRepository(session).get(user_id)
        return None if row is None else Name(full_name=row.full_name)

    return load


async def rename(database: Database, cache: Cache, user: User, full_name: str) -> None:
    """A write as services make it: invalidated once the unit of work has committed."""
    async with database.transaction() as session:
        row = await UserRepository(session).get(user.id)
        assert row is not None
        await UserRepository(session).update(row, full_name=full_name)
        after_commit(session, partial(cache.invalidate, key_of(user)))


def held(
    load: Callable[[], Awaitable[Name | None]], loaded: asyncio.Event, proceed: asyncio.Event
) -> Callable[[], Awaitable[Name | None]]:
    """`load`, which sets `loaded` once it has read the row and returns only once `proceed` is set."""

    async def held_load() -> Name | None:
        value = await load()
        loaded.set()
        await proceed.wait()
        return value

    return held_load


async def read(database: Database, cache: Cache, user: User) -> str | None:
    value = await cache.get_or_load(key_of(user), Name, loader(database, user.id))
    assert value is not None
    return value.full_name


async def test_a_read_after_a_committed_write_is_never_stale(
    database: Database, cache: Cache, user: User
) -> None:
    for n in range(3):
        assert await read(database, cache, user) == (f"Name {n - 1}" if n else user.full_name)
        await rename(database, cache, user, f"Name {n}")
    assert await read(database, cache, user) == "Name 2"


async def test_the_cache_answers_without_the_database_until_a_write(
    database: Database, cache: Cache, user: User
) -> None:
    loads = 0
    load = loader(database, user.id)

    async def counted() -> Name | None:
        nonlocal loads
        loads += 1
        return await load()

    for _ in range(3):
        await cache.get_or_load(key_of(user), Name, counted)
    assert loads == 1
    await rename(database, cache, user, "Renamed")
    assert (await cache.get_or_load(key_of(user), Name, counted)) == Name(full_name="Renamed")
    assert loads == 2


async def test_a_load_that_raced_a_write_is_never_served_after_it(
    database: Database, cache: Cache, user: User
) -> None:
    """The reader loads the old row, the write commits and invalidates, then the reader stores
    what it loaded: stored under the old generation, nobody reads it."""
    loaded, proceed = asyncio.Event(), asyncio.Event()
    load = loader(database, user.id)
    slow_load = held(load, loaded, proceed)
    racing = asyncio.create_task(cache.get_or_load(key_of(user), Name, slow_load))
    await loaded.wait()
    await rename(database, cache, user, "After the race")
    proceed.set()
    assert (await racing) == Name(full_name=user.full_name)  # concurrent with the write: either
    assert await read(database, cache, user) == "After the race"


async def test_concurrent_misses_load_once(database: Database, cache: Cache, user: User) -> None:
    loads = 0
    load = loader(database, user.id)

    async def slow_load() -> Name | None:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0.3)  # every other read arrives while this one loads
        return await load()

    values = await asyncio.gather(
        *(cache.get_or_load(key_of(user), Name, slow_load) for _ in range(CONCURRENT_READS))
    )
    assert loads == 1
    assert values == [Name(full_name=user.full_name)] * CONCURRENT_READS


async def test_a_read_after_a_write_never_waits_for_an_older_load(
    database: Database, cache: Cache, user: User
) -> None:
    """Concurrent misses share a load only under the same generations: a read that starts after
    a write loads for itself instead of taking what a load from before the write returns."""
    loaded, proceed = asyncio.Event(), asyncio.Event()
    load = loader(database, user.id)
    slow_load = held(load, loaded, proceed)
    before = asyncio.create_task(cache.get_or_load(key_of(user), Name, slow_load))
    await loaded.wait()
    await rename(database, cache, user, "Newer")
    after = await cache.get_or_load(key_of(user), Name, load)
    proceed.set()
    await before
    assert after == Name(full_name="Newer")


async def test_not_found_is_not_cached(database: Database, cache: Cache) -> None:
    missing = loader(database, uuid.uuid4())
    assert await cache.get_or_load("users:missing", Name, missing) is None
    assert (await cache.get_or_load("users:missing", Name, _constant("Now there"))) == Name(
        full_name="Now there"
    )


def _constant(full_name: str) -> Callable[[], Awaitable[Name | None]]:
    async def load() -> Name | None:
        return Name(full_name=full_name)

    return load


class StalledStore:
    """A store that accepts every call and never answers (a partitioned server)."""

    def __init__(self) -> None:
        self.stalled = True
        self.values: dict[str, str] = {}

    async def _wait(self) -> None:
        if self.stalled:
            await asyncio.Event().wait()

    async def get_many(self, keys: Sequence[str]) -> list[str | None]:
        await self._wait()
        return [self.values.get(key) for key in keys]

    async def set(self, key: str, value: str, ttl_seconds: float) -> None:
        await self._wait()
        self.values[key] = value

    async def add(self, key: str, value: str, ttl_seconds: float) -> bool:
        await self._wait()
        return self.values.setdefault(key, value) == value

    async def close(self) -> None:
        return None


@pytest.fixture
def stalled() -> StalledStore:
    return StalledStore()


@pytest.fixture
def stalling_cache(stalled: StalledStore) -> Cache:
    return Cache(
        stalled,
        prefix="stall",
        ttl_seconds=60,
        timeout_seconds=STALL_TIMEOUT_SECONDS,
        breaker_seconds=BREAKER_SECONDS,
    )


async def test_a_stalled_store_costs_one_bounded_wait_then_reads_skip_it(
    database: Database, stalling_cache: Cache, user: User
) -> None:
    started = time.perf_counter()
    assert await read(database, stalling_cache, user) == user.full_name
    first = time.perf_counter() - started
    started = time.perf_counter()
    assert await read(database, stalling_cache, user) == user.full_name
    while_open = time.perf_counter() - started
    assert STALL_TIMEOUT_SECONDS <= first < STALL_TIMEOUT_SECONDS + 1.0
    assert while_open < STALL_TIMEOUT_SECONDS  # the breaker is open: no wait at all


async def test_an_invalidation_the_store_missed_is_sent_before_the_store_is_used_again(
    database: Database, stalled: StalledStore, stalling_cache: Cache, user: User
) -> None:
    """Otherwise the entry cached before the write would be served once the store answers."""
    stalled.stalled = False
    assert await read(database, stalling_cache, user) == user.full_name  # cached
    stalled.stalled = True
    await rename(database, stalling_cache, user, "Written while stalled")
    stalled.stalled = False
    await asyncio.sleep(BREAKER_SECONDS)
    assert await read(database, stalling_cache, user) == "Written while stalled"
