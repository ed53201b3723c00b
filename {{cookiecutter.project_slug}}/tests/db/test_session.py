"""Read and write sessions: an endpoint names the one it needs; a read session refuses writes."""

{% if cookiecutter.database == "sqlite" -%}
import asyncio
{% endif -%}
import uuid
from collections.abc import AsyncIterator, Callable
{%- if cookiecutter.database == "postgresql" %}
from datetime import datetime
{%- endif %}

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
{%- if cookiecutter.database == "sqlite" %}
from sqlalchemy import delete, func, select, text, update
{%- else %}
from sqlalchemy import func, select, text, update
{%- endif %}

from app.api.deps import ReadSessionDep, WriteSessionDep
from app.core.config import Settings
{%- if cookiecutter.database == "sqlite" %}
from app.core.exceptions import UnauthorizedError
{%- endif %}
from app.db.session import Database, ReadOnlySession, WriteInReadSessionError, create_database
from app.models.users import User
{%- if cookiecutter.database == "sqlite" %}
from app.schemas.auth import TokenPair
from app.services.auth import AuthService
from tests.conftest import PASSWORD, assert_error, make_user

PARALLEL_REFRESHES = 10
{%- else %}
from tests.conftest import PASSWORD, assert_error
{%- endif %}


@pytest.fixture
def database(app: FastAPI) -> Database:
    db: Database = app.state.db
    return db


@pytest.fixture
async def production_database(settings: Settings) -> AsyncIterator[Database]:
    """The database as the served app builds it: its own pool, outside the test transaction."""
    database = create_database(settings)
    yield database
    await database.engine.dispose()


async def test_read_session_refuses_to_flush_a_new_row(database: Database) -> None:
    async with database.reads() as session:
        session.add(User(email="sneaky@example.com", hashed_password=PASSWORD))
        with pytest.raises(WriteInReadSessionError):
            await session.flush()


async def test_read_session_refuses_a_bulk_update(database: Database) -> None:
    async with database.reads() as session:
        with pytest.raises(WriteInReadSessionError):
            await session.execute(update(User).values(full_name="everyone"))


async def test_read_session_still_reads(database: Database, user: User) -> None:
    async with database.reads() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 1


async def test_production_read_session_runs_a_textual_select(
    production_database: Database,
) -> None:
    count = text("SELECT count(*) FROM users WHERE email = :email")
    async with production_database.reads() as session:
        assert await session.scalar(count, {"email": "nobody@example.com"}) == 0


async def test_production_read_session_refuses_a_textual_write_and_writes_nothing(
    production_database: Database,
) -> None:
    email = f"text-write-{uuid.uuid4().hex[:8]}@example.com"
    insert = text(
        "INSERT INTO users (id, email, hashed_password, full_name, role, is_active,"
        " is_verified, token_version, created_at, updated_at)"
        " VALUES (:id, :email, 'x', '', 'user', true, false, 0, CURRENT_TIMESTAMP,"
        " CURRENT_TIMESTAMP)"
    )
    async with production_database.reads() as session:
        with pytest.raises(WriteInReadSessionError):
            await session.execute(insert, {"id": uuid.uuid4(), "email": email})
    async with production_database.reads() as session:
        assert await session.scalar(select(User.id).where(User.email == email)) is None
{%- if cookiecutter.database == "postgresql" %}


async def test_production_reads_run_each_statement_on_its_own_and_writes_in_one_transaction(
    production_database: Database,
) -> None:
    """Reads skip BEGIN/COMMIT (each statement is its own transaction); writes share one."""
    now = text("SELECT transaction_timestamp()")
    async with production_database.reads() as session:
        read_times: list[datetime | None] = [await session.scalar(now) for _ in range(2)]
    async with production_database.transaction() as session:
        write_times: list[datetime | None] = [await session.scalar(now) for _ in range(2)]
    assert read_times[0] != read_times[1]
    assert write_times[0] == write_times[1]
{%- else %}


@pytest.fixture
async def unused_emails(production_database: Database) -> AsyncIterator[list[str]]:
    """Two new addresses; the users a test commits under them are deleted after it."""
    emails = [f"writer-{n}-{uuid.uuid4().hex[:8]}@example.com" for n in range(2)]
    yield emails
    async with production_database.transaction() as session:
        await session.execute(delete(User).where(User.email.in_(emails)))


async def test_a_writer_that_read_first_waits_for_a_concurrent_writer_instead_of_failing(
    production_database: Database, unused_emails: list[str]
) -> None:
    """The first writer reads, then a second one tries to commit before the first writes: both
    commit. Were the first begun DEFERRED, the second would commit first and the first's write
    would fail at once with "database is locked" (a 503), its snapshot being stale."""
    emails = unused_emails

    async def add_user(email: str) -> None:
        async with production_database.transaction() as session:
            session.add(User(email=email, hashed_password=PASSWORD))

    async with production_database.transaction() as session:
        await session.scalar(select(func.count()).select_from(User))
        second = asyncio.create_task(add_user(emails[1]))
        # Time for the second writer to commit, were it let through.
        await asyncio.wait({second}, timeout=0.5)
        session.add(User(email=emails[0], hashed_password=PASSWORD))
    await second
    async with production_database.reads() as session:
        stored = await session.scalars(select(User.email).where(User.email.in_(emails)))
        assert sorted(stored) == sorted(emails)


async def test_parallel_refreshes_of_one_token_let_exactly_one_through(
    production_database: Database, settings: Settings, unused_emails: list[str]
) -> None:
    """SQLite has no row locks: the write lock each transaction takes as it begins orders the
    refreshes, so one rotates the token and the rest find it used (401), none a 503."""
    async with production_database.transaction() as session:
        user = await make_user(session, settings, email=unused_emails[0])
    auth = AuthService(production_database, settings)
    pair = await auth.login(user.email, PASSWORD)
    outcomes = await asyncio.gather(
        *(auth.refresh(pair.refresh_token) for _ in range(PARALLEL_REFRESHES)),
        return_exceptions=True,
    )
    assert [type(outcome) for outcome in outcomes].count(TokenPair) == 1
    refused = [outcome for outcome in outcomes if isinstance(outcome, UnauthorizedError)]
    assert len(refused) == PARALLEL_REFRESHES - 1
{%- endif %}


@pytest.mark.parametrize(("dependency", "read_only"), [("read", True), ("write", False)])
async def test_an_endpoint_gets_the_session_it_names(
    app_factory: Callable[..., FastAPI], dependency: str, read_only: bool
) -> None:
    app = app_factory()

    async def reads(session: ReadSessionDep) -> bool:
        return isinstance(session.sync_session, ReadOnlySession)

    async def writes(session: WriteSessionDep) -> bool:
        return isinstance(session.sync_session, ReadOnlySession)

    # The method does not choose: a POST that only reads may take a read session too.
    app.add_api_route("/which-session", reads if dependency == "read" else writes, methods=["POST"])
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        response = await client.post("/which-session")
    assert response.json() is read_only


async def test_an_endpoint_that_writes_through_a_read_session_fails_loudly_and_writes_nothing(
    app_factory: Callable[..., FastAPI], user: User
) -> None:
    app = app_factory()
    email = f"written-by-reader-{uuid.uuid4().hex[:8]}@example.com"

    async def careless_read(session: ReadSessionDep) -> None:
        session.add(User(email=email, hashed_password=PASSWORD))
        await session.flush()

    app.add_api_route("/careless-read", careless_read, methods=["GET"])
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get("/careless-read")
        assert response.status_code == 500
        assert_error(response.json(), "INTERNAL_ERROR")
    async with app.state.db.reads() as session:
        assert await session.scalar(select(User).where(User.email == email)) is None
