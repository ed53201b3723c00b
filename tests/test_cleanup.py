"""A template test run drops the databases it created, and only those (the server is shared)."""

import asyncio

import asyncpg

from tests.helpers import MAINTENANCE_DSN, RUN_DATABASE_PREFIX, drop_databases


async def create_databases(*names: str) -> None:
    conn = await asyncpg.connect(MAINTENANCE_DSN)
    try:
        for name in names:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def test_drop_databases_takes_exactly_the_names_with_the_prefix() -> None:
    prefix = f"{RUN_DATABASE_PREFIX}probe_"
    # `_` is a LIKE wildcard: a LIKE-based match would also take `..._probex_...`.
    mine = [f"{prefix}a", f"{prefix}b"]
    other = f"{RUN_DATABASE_PREFIX}probex_kept"
    asyncio.run(create_databases(*mine, other))
    try:
        assert drop_databases(prefix) == mine
        assert drop_databases(prefix) == []
    finally:
        assert drop_databases(other) == [other]
