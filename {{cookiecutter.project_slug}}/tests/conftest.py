"""Test harness: a real database migrated once per run, and one rolled-back transaction per test.

The app under test is the real app. Only its session factory is swapped for one bound to the
test's connection, so every request commits into a savepoint that the test then rolls back.
Test settings come from `tests/settings.py`, which reads nothing but the database URL from outside.
"""

import asyncio
{%- if cookiecutter.background_jobs == "taskiq" %}
import contextlib
{%- endif %}
import io
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from alembic.config import Config
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
{%- if cookiecutter.background_jobs == "taskiq" %}
from redis.asyncio import Redis
from redis.exceptions import RedisError
{%- endif %}
{%- if cookiecutter.database == "sqlite" %}
from sqlalchemy.engine import make_url
{%- else %}
from sqlalchemy import text
{%- endif %}
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from alembic import command
{%- if cookiecutter.background_jobs == "taskiq" %}
from app.api.deps import get_email_jobs
{%- endif %}
from app.cache.stores import build_cache
from app.cache.versioned import Cache
from app.cli import create_db
from app.core.config import Settings
from app.core.security import create_token, hash_password
{%- if cookiecutter.database == "postgresql" %}
from app.db.connection_errors import describe_connection_failure
{%- endif %}
from app.db.session import Database, create_engine, read_only
from app.main import attach_resources, create_app
from app.models.users import Role, User
from app.observability.logging import configure_logging
{%- if cookiecutter.background_jobs == "taskiq" %}
from tests.jobs.inline import InlineEmailJobs
{%- endif %}
from tests.mail import Mailbox, MailServer
{%- if cookiecutter.file_storage == "s3" %}
from tests.s3_server import S3Server
{%- endif %}
from tests.settings import changed_settings, database_url_for_tests, make_test_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Read while pytest loads this file, so a URL that cannot work ends the run in one line.
TEST_DATABASE_URL = database_url_for_tests()
PASSWORD = "correct horse battery"
# Nothing answers here: readiness must report the database as unavailable.
{%- if cookiecutter.database == "sqlite" %}
UNREACHABLE_DATABASE_URL = "sqlite+aiosqlite:////nonexistent-folder/none.db"
{%- else %}
# Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
UNREACHABLE_DATABASE_URL = "postgresql+asyncpg://nobody@127.0.0.1:9/none"
{%- endif %}


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["settings"] = make_test_settings(database_url=database_url)
    config.attributes["configure_logger"] = False
    return config


{% if cookiecutter.database == "sqlite" -%}
async def reset_database(database_url: str) -> None:
    """Deletes the SQLite file (and its WAL files) and migrates a new one to head with Alembic."""
    path = Path(str(make_url(database_url).database))
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    await create_db(make_test_settings(database_url=database_url))
    await asyncio.to_thread(command.upgrade, alembic_config(database_url), "head")
{%- else -%}
async def reset_database(database_url: str) -> None:
    """Creates the database if needed, empties it, and migrates it to head with Alembic."""
    await create_db(make_test_settings(database_url=database_url))
    engine = create_engine(database_url, make_test_settings())
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
    await asyncio.to_thread(command.upgrade, alembic_config(database_url), "head")
{%- endif %}


{% if cookiecutter.database == "postgresql" -%}
class ERROR(pytest.exit.Exception):
    """pytest prints an exit at start-up as `<class name>: <reason>`: this one reads `ERROR: ...`,
    like every other command's start-up failure."""


def pytest_sessionstart(session: pytest.Session) -> None:
    """Stops at once, in one line, when the test database server cannot be reached."""
    url = TEST_DATABASE_URL
    try:
        asyncio.run(asyncio.wait_for(create_db(make_test_settings(database_url=url)), timeout=10))
    except Exception as exc:
        message = describe_connection_failure(exc, url, "TEST_DATABASE_URL")
        if message is None:
            raise
        # pytest writes the exit reason once; its reporter would repeat it in a banner.
        session.config.pluginmanager.unregister(name="terminalreporter")
        raise ERROR(message, returncode=3) from None


{% endif -%}
@pytest.fixture(scope="session")
def mail_server() -> Iterator[MailServer]:
    with MailServer() as server:
        yield server


{% if cookiecutter.file_storage == "s3" -%}
@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    with S3Server() as server:
        yield server


@pytest.fixture(scope="session")
def settings(mail_server: MailServer, s3_server: S3Server) -> Settings:
    return make_test_settings(smtp_port=mail_server.port, **s3_server.settings())
{%- elif cookiecutter.file_storage == "local" -%}
@pytest.fixture(scope="session")
def settings(mail_server: MailServer, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    uploads = tmp_path_factory.mktemp("uploads")
    return make_test_settings(smtp_port=mail_server.port, local_storage_dir=uploads)
{%- else -%}
@pytest.fixture(scope="session")
def settings(mail_server: MailServer) -> Settings:
    return make_test_settings(smtp_port=mail_server.port)
{%- endif %}
{%- if cookiecutter.background_jobs == "taskiq" %}


@pytest.fixture(scope="session", autouse=True)
async def jobs_of_the_run_removed(settings: Settings) -> AsyncIterator[None]:
    """Jobs the run's apps queued (no worker reads them) go with the run's queue at the end."""
    yield
    # A run of tests that never needed Redis must not fail for want of it here.
    with contextlib.suppress(RedisError, OSError):
        async with Redis.from_url(settings.redis_url) as redis:
            await redis.delete(settings.jobs_queue_name)
{%- endif %}


@pytest.fixture
def mailbox(mail_server: MailServer) -> Iterator[Mailbox]:
    """What the test SMTP server receives during this test."""
    mail_server.mailbox.clear()
    yield mail_server.mailbox
    mail_server.mailbox.clear()


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    await reset_database(settings.database_url)
    engine = create_engine(settings.database_url, settings)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as conn:
        transaction = await conn.begin()
        yield conn
        await transaction.rollback()


@pytest.fixture
def sessions(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    # Commits inside the app release a savepoint; the outer transaction is rolled back later.
    return async_sessionmaker(
        bind=connection,
        expire_on_commit=False,
        autoflush=False,
        join_transaction_mode="create_savepoint",
    )


@pytest.fixture
async def session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session


@pytest.fixture
def database(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> Database:
    """Units of work (services that open their own) inside the test's transaction."""
    return Database(engine=engine, sessions=sessions, read_sessions=read_only(sessions))


def with_own_counters(settings: Settings) -> Settings:
    """Each app counts on its own, even when the counters live in a shared storage."""
    return changed_settings(
        settings,
        rate_limit_key_prefix=f"test-{uuid.uuid4().hex}",
        cache_key_prefix=f"test-{uuid.uuid4().hex}:cache",
    )


def use_test_transaction(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> None:
    """Reads and writes share the test's transaction; reads still refuse writes (they do not
    autocommit). The app's own engine stays, for its lifespan to dispose of."""
    engine = app.state.db.engine
    app.state.db = Database(engine=engine, sessions=sessions, read_sessions=read_only(sessions))


@pytest.fixture
def app_factory(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> Callable[..., FastAPI]:
    """Builds a real app of its own with setting overrides, wired to the test transaction: for
    tests that change settings or add routes."""

    def build(**overrides: object) -> FastAPI:
        app = create_app(changed_settings(with_own_counters(settings), **overrides))
        use_test_transaction(app, sessions)
{%- if cookiecutter.background_jobs == "taskiq" %}
        # A worker process cannot see this test's transaction: jobs run inline (tests/jobs/inline.py).
        app.dependency_overrides[get_email_jobs] = InlineEmailJobs
{%- endif %}
        return app

    return build


@pytest.fixture(scope="session")
def shared_app(settings: Settings) -> FastAPI:
    """The real app as the test settings build it, served to every test that takes `app`.

    FastAPI prepares an app's routes on its first requests: with an app per test, that was about
    a quarter of the suite's time. Each test gives it fresh resources (see `app`); a test that
    changes settings or routes builds its own with `app_factory`. The resources `create_app`
    attaches here are replaced before any is used (none connects until then).
    """
    app = create_app(settings)
{%- if cookiecutter.background_jobs == "taskiq" %}
    app.dependency_overrides[get_email_jobs] = InlineEmailJobs
{%- endif %}
    return app


@pytest.fixture
async def cache(settings: Settings) -> AsyncIterator[Cache]:
    """A cache of its own (own key prefix), on the configured store, for service tests."""
    cache = build_cache(changed_settings(settings, cache_key_prefix=f"test-{uuid.uuid4().hex}"))
    yield cache
    await cache.close()


@pytest.fixture
async def app(
    shared_app: FastAPI, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[FastAPI]:
    """The shared app, started, with resources of this test's own (rate-limit counters, cache,
    mail sender and the rest) wired to the test transaction, and logging as the test settings
    configure it (an earlier test's app may have changed it). Its lifespan runs around the test,
    so what the test used is closed before the next test replaces it."""
    configure_logging(settings)
    attach_resources(shared_app, with_own_counters(settings))
    use_test_transaction(shared_app, sessions)
    overrides = dict(shared_app.dependency_overrides)
    try:
        async with shared_app.router.lifespan_context(shared_app):
            yield shared_app
    finally:
        # A dependency override a test set (FastAPI's usual way) ends with the test.
        shared_app.dependency_overrides.clear()
        shared_app.dependency_overrides.update(overrides)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    transport = ASGITransport(app=app)
    async with AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def make_user(
    session: AsyncSession,
    settings: Settings,
    *,
    email: str,
    role: Role = Role.USER,
    is_active: bool = True,
    is_verified: bool = True,
) -> User:
    user = User(
        email=email,
        hashed_password=await hash_password(PASSWORD, settings),
        full_name=email.split("@")[0].title(),
        role=role,
        is_active=is_active,
        is_verified=is_verified,
    )
    session.add(user)
    await session.commit()
    return user


def auth_headers(user: User, settings: Settings) -> dict[str, str]:
    token = create_token(str(user.id), "access", settings, version=user.token_version).token
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def user(session: AsyncSession, settings: Settings) -> User:
    return await make_user(session, settings, email="user@example.com")


@pytest.fixture
async def other_user(session: AsyncSession, settings: Settings) -> User:
    return await make_user(session, settings, email="other@example.com")


@pytest.fixture
async def admin(session: AsyncSession, settings: Settings) -> User:
    return await make_user(session, settings, email="admin@example.com", role=Role.ADMIN)


@pytest.fixture
def user_headers(user: User, settings: Settings) -> dict[str, str]:
    return auth_headers(user, settings)


@pytest.fixture
def other_headers(other_user: User, settings: Settings) -> dict[str, str]:
    return auth_headers(other_user, settings)


@pytest.fixture
def admin_headers(admin: User, settings: Settings) -> dict[str, str]:
    return auth_headers(admin, settings)


def assert_error(response_json: dict[str, object], code: str) -> None:
    """Checks the one error envelope every failure must use."""
    assert set(response_json) == {"error"}
    error = response_json["error"]
    assert isinstance(error, dict)
    assert set(error) == {"code", "message", "details", "request_id"}
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    assert error["request_id"]


@pytest.fixture
def log_output() -> Iterator[Callable[..., io.StringIO]]:
    """`log_output(*logger_names)` points the stream handlers configure_logging gave those loggers
    ("" is the root) at one buffer; call it after the app is built."""
    swapped: list[tuple[logging.StreamHandler[io.TextIOWrapper], object]] = []

    def capture(*logger_names: str) -> io.StringIO:
        buffer = io.StringIO()
        for name in logger_names:
            for handler in logging.getLogger(name).handlers:
                if isinstance(handler, logging.StreamHandler):
                    swapped.append((handler, handler.setStream(buffer)))
        assert swapped, "configure_logging installed no stream handler"
        return buffer

    yield capture
    for handler, stream in swapped:
        handler.setStream(stream)  # type: ignore[arg-type]
