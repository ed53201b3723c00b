"""Engine and session factories. One engine (one pool) per process; per unit of work, one session.

Two kinds of session, named by what they may do: a `WriteSession` is one transaction, committed
if the block succeeds; a `ReadSession` refuses writes and, on PostgreSQL, runs each statement
without BEGIN/COMMIT (PERFORMANCE.md). Endpoints and services name the one they need.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
{%- if cookiecutter.database == "postgresql" %}
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
{%- else %}
from contextlib import asynccontextmanager
{%- endif %}
from dataclasses import dataclass
from typing import Any, NewType

{% if cookiecutter.database == "sqlite" -%}
from sqlalchemy import Connection, event
{% else -%}
from sqlalchemy import event
{% endif -%}
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.sql.elements import TextClause

from app.core.config import Settings
{%- if cookiecutter.database == "postgresql" %}
from app.core.exceptions import DatabaseUnavailableError
from app.db.connection_queue import ConnectionQueue
{%- endif %}
{%- if cookiecutter.database == "sqlite" %}

# How long a writer waits for another writer's lock before "database is locked" (a 503).
SQLITE_BUSY_TIMEOUT_MS = 5000
# Execution option naming the statement that begins a transaction (_begin_transaction).
BEGIN_OPTION = "sqlite_begin"
{%- endif %}

# A session that only reads; a WriteSession may read too, so it is accepted wherever a
# ReadSession is. Both are plain AsyncSessions at run time.
ReadSession = NewType("ReadSession", AsyncSession)
WriteSession = NewType("WriteSession", ReadSession)


# session.info key: what to run once the session's transaction has committed.
AFTER_COMMIT = "after_commit"


def after_commit(session: WriteSession, callback: Callable[[], Awaitable[None]]) -> None:
    """Runs `callback` once `session`'s transaction has committed (`Database.transaction`), and
    not at all if it rolls back: e.g. a cache invalidation, which made before the commit would
    let a concurrent read cache the row as it was until then."""
    session.info.setdefault(AFTER_COMMIT, []).append(callback)


async def _run_after_commit(session: AsyncSession) -> None:
    for callback in session.info.pop(AFTER_COMMIT, []):
        # Shielded: a client that leaves now must not cancel what the commit already made due.
        await asyncio.shield(callback())


class WriteInReadSessionError(RuntimeError):
    """Code holding a ReadSession tried to write: a bug in that code, never a client error."""


class ReadOnlySession(Session):
    """Behind every ReadSession: anything but a SELECT raises at once, so a write slipped into
    a read path fails loudly in tests instead of silently autocommitting."""


@event.listens_for(ReadOnlySession, "before_flush")
def _refuse_flush(session: Session, _context: UOWTransaction, _instances: Any) -> None:
    raise WriteInReadSessionError("a read session tried to write")


@event.listens_for(ReadOnlySession, "do_orm_execute")
def _refuse_non_select(state: ORMExecuteState) -> None:
    if not (state.is_select or _is_textual_select(state.statement)):
        raise WriteInReadSessionError("a read session ran a statement other than a SELECT")


def _is_textual_select(statement: Any) -> bool:
    # text("SELECT ..."): allowed. Anything else in text() needs a WriteSession.
    return isinstance(statement, TextClause) and statement.text.lstrip().upper().startswith(
        "SELECT"
    )


@dataclass(frozen=True, slots=True)
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    read_sessions: async_sessionmaker[AsyncSession]
{%- if cookiecutter.database == "postgresql" %}
    # Sessions wait here, in arrival order, for a pooled connection (None: straight to the pool).
    queue: ConnectionQueue | None = None

    def _turn(self) -> AbstractAsyncContextManager[None]:
        return self.queue.turn() if self.queue is not None else nullcontext()
{%- endif %}

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[WriteSession]:
        """A session whose work is committed if the block succeeds and rolled back if it raises."""
{%- if cookiecutter.database == "postgresql" %}
        async with self._turn(), self.sessions() as session:
{%- else %}
        async with self.sessions() as session:
{%- endif %}
            try:
                yield WriteSession(ReadSession(session))
                await session.commit()
            except BaseException:
                session.info.pop(AFTER_COMMIT, None)
                await session.rollback()
                raise
            await _run_after_commit(session)

    @asynccontextmanager
    async def reads(self) -> AsyncIterator[ReadSession]:
        """A session for reads only: nothing to commit, any write raises."""
{%- if cookiecutter.database == "postgresql" %}
        async with self._turn(), self.read_sessions() as session:
{%- else %}
        async with self.read_sessions() as session:
{%- endif %}
            yield ReadSession(session)
{% if cookiecutter.database == "sqlite" %}

def create_engine(url: str, settings: Settings) -> AsyncEngine:
    # SQLite has no server: pool sizes do not apply, but a connection may still wait for the file.
    engine = create_async_engine(url, pool_timeout=settings.db_pool_timeout_seconds)
    event.listen(engine.sync_engine, "connect", _configure_connection)
    event.listen(engine.sync_engine, "begin", _begin_transaction)
    return engine


def _write_engine(engine: AsyncEngine) -> AsyncEngine:
    # A write transaction takes the write lock as it begins (IMMEDIATE), so a second writer waits
    # busy_timeout for its turn. Begun DEFERRED, a writer that read first and found that another
    # writer had committed since would fail at once with "database is locked" (a 503): SQLite
    # cannot move its snapshot forward, and its busy handler does not run for that.
    return engine.execution_options(**{BEGIN_OPTION: "BEGIN IMMEDIATE"})


def _read_engine(engine: AsyncEngine) -> AsyncEngine:
    # BEGIN and COMMIT cost no round trip on a local file: reads keep their snapshot transaction,
    # begun DEFERRED, so they take no lock and go on while a writer commits (WAL).
    return engine.execution_options(**{BEGIN_OPTION: "BEGIN DEFERRED"})


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
    # Write sessions begin IMMEDIATE (_write_engine); anything else DEFERRED.
    connection.exec_driver_sql(connection.get_execution_options().get(BEGIN_OPTION, "BEGIN"))
{% else %}

def create_engine(url: str, settings: Settings) -> AsyncEngine:
    engine = create_async_engine(
        url,
        # A fixed pool and no overflow: an overflow connection is closed when it comes back to a
        # full pool, so steady load above pool_size would open one connection per request.
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        pool_pre_ping=settings.db_pool_pre_ping,
        pool_recycle=settings.db_pool_recycle_seconds,
        connect_args={
            # Stated, never guessed: without it asyncpg tries TLS first on every connect.
            "ssl": settings.resolved_db_ssl,
            # asyncpg's own bounds: a dead server fails the request (503) instead of hanging it.
            "timeout": settings.db_connect_timeout_seconds,
            "command_timeout": settings.db_command_timeout_seconds,
        },
    )
    event.listen(engine.sync_engine, "do_connect", _connect_or_unavailable)
    return engine


def _connect_or_unavailable(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
    """Opens a connection; a refused, unresolvable or timed-out connect is the database's outage.

    asyncpg raises these as plain OSError (TimeoutError included), which any other outbound call
    raises too: naming them here keeps an SMTP or HTTP timeout from reading as a database outage.
    """
    try:
        return dialect.connect(*cargs, **cparams)
    except OSError as exc:
        raise DatabaseUnavailableError() from exc


def _read_engine(engine: AsyncEngine) -> AsyncEngine:
    # Same pool; each statement is its own transaction, so no BEGIN/COMMIT round trips.
    return engine.execution_options(isolation_level="AUTOCOMMIT")
{% endif %}

def create_database(settings: Settings, url: str | None = None) -> Database:
    engine = create_engine(url or settings.database_url, settings)
    # Without expire_on_commit=False, reading an attribute after commit needs I/O (MissingGreenlet).
{%- if cookiecutter.database == "sqlite" %}
    sessions = async_sessionmaker(_write_engine(engine), expire_on_commit=False, autoflush=False)
{%- else %}
    sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
{%- endif %}
{%- if cookiecutter.database == "postgresql" %}
    queue = ConnectionQueue(
        settings.db_pool_size + settings.db_max_overflow, settings.db_pool_timeout_seconds
    )
    return Database(engine, sessions, read_only(sessions), queue)
{%- else %}
    return Database(engine=engine, sessions=sessions, read_sessions=read_only(sessions))
{%- endif %}


def read_only(sessions: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    """`sessions`, but refusing writes (and, on PostgreSQL, without BEGIN/COMMIT)."""
    kw = sessions.kw
    bind = kw["bind"]
    if isinstance(bind, AsyncEngine):
        bind = _read_engine(bind)
    return async_sessionmaker(
        class_=sessions.class_, **{**kw, "bind": bind, "sync_session_class": ReadOnlySession}
    )
