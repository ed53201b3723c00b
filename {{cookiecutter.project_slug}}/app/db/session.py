"""Engine and session factory. One engine per process; one session (one transaction) per request."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
{%- if cookiecutter.database == "sqlite" %}
from typing import Any
{%- endif %}

{% if cookiecutter.database == "sqlite" -%}
from sqlalchemy import Connection, event
{% endif -%}
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.core.config import Settings
{%- if cookiecutter.database == "sqlite" %}

# How long a writer waits for another writer's lock before "database is locked" (a 503).
SQLITE_BUSY_TIMEOUT_MS = 5000
{%- endif %}


@dataclass(frozen=True, slots=True)
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work is committed if the block succeeds and rolled back if it raises."""
        async with self.sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
{% if cookiecutter.database == "sqlite" %}

def create_engine(url: str, settings: Settings) -> AsyncEngine:
    # SQLite has no server: pool sizes do not apply, but a connection may still wait for the file.
    engine = create_async_engine(url, pool_timeout=settings.db_pool_timeout_seconds)
    event.listen(engine.sync_engine, "connect", _configure_connection)
    event.listen(engine.sync_engine, "begin", _begin_transaction)
    return engine


def _configure_connection(dbapi_connection: Any, _record: Any) -> None:
    # The sqlite3 driver skips BEGIN before SELECT and SAVEPOINT, which breaks savepoints and
    # repeatable reads; switch its transaction handling off and let _begin_transaction emit BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # Without this pragma SQLite ignores foreign keys, ON DELETE CASCADE included.
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets readers go on while a writer commits.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _begin_transaction(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")
{% else %}

def create_engine(url: str, settings: Settings) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        pool_pre_ping=settings.db_pool_pre_ping,
        pool_recycle=settings.db_pool_recycle_seconds,
        # asyncpg's own bounds: a dead server fails the request (503) instead of hanging it.
        connect_args={
            "timeout": settings.db_connect_timeout_seconds,
            "command_timeout": settings.db_command_timeout_seconds,
        },
    )
{% endif %}

def create_database(settings: Settings, url: str | None = None) -> Database:
    engine = create_engine(url or settings.database_url, settings)
    # Without expire_on_commit=False, reading an attribute after commit needs I/O (MissingGreenlet).
    sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
    return Database(engine=engine, sessions=sessions)
