"""Migrations are the schema: they must build it from nothing, match the models, and undo cleanly."""

import asyncio

from sqlalchemy import inspect

from alembic import command
from app.core.config import Settings, with_database_suffix
from app.db.session import create_engine
from tests.conftest import alembic_config, reset_database


def migrations_database(settings: Settings) -> str:
    return with_database_suffix(settings.database_url, "_migrations")


async def table_names(url: str, settings: Settings) -> set[str]:
    engine = create_engine(url, settings)
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda sync_conn: inspect(sync_conn).get_table_names())
    await engine.dispose()
    return set(names)


async def test_upgrade_head_matches_the_models_and_downgrade_undoes_it(settings: Settings) -> None:
    url = migrations_database(settings)
    await reset_database(url)
    config = alembic_config(url)
    # `alembic check` raises if autogenerate would produce any operation (model drift).
    await asyncio.to_thread(command.check, config)
    await asyncio.to_thread(command.downgrade, config, "base")
    assert await table_names(url, settings) == {"alembic_version"}
    await asyncio.to_thread(command.upgrade, config, "head")
    assert {"users", "refresh_tokens"} <= await table_names(url, settings)
