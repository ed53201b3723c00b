"""Two instances sharing Redis: a write committed through one is never read stale through the
other, whichever of them cached the row first."""

import uuid
from collections.abc import AsyncIterator

import pytest

from app.cache.stores import build_cache
from app.cache.versioned import Cache
from app.core.config import Settings
from app.db.session import Database
from app.models.users import User
from tests.cache.test_cache import read, rename
from tests.settings import changed_settings


@pytest.fixture
async def instances(settings: Settings) -> AsyncIterator[tuple[Cache, Cache]]:
    """Two caches as two processes have them: own clients and flights, one Redis, one prefix."""
    shared = changed_settings(settings, cache_key_prefix=f"test-{uuid.uuid4().hex}")
    first, second = build_cache(shared), build_cache(shared)
    yield first, second
    await first.close()
    await second.close()


async def test_a_write_through_one_instance_is_never_read_stale_through_the_other(
    database: Database, instances: tuple[Cache, Cache], user: User
) -> None:
    first, second = instances
    for n, (writer, reader) in enumerate(((first, second), (second, first), (first, first))):
        before = await read(database, reader, user)  # the reader has it cached now
        assert await read(database, reader, user) == before
        await rename(database, writer, user, f"Name {n}")
        assert await read(database, reader, user) == f"Name {n}"
        assert await read(database, writer, user) == f"Name {n}"
