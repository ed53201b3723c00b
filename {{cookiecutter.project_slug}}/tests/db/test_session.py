"""Sessions per request: safe methods read through a session that refuses every write."""

import uuid
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select, update

from app.api.deps import SessionDep
from app.db.session import Database, ReadOnlySession, WriteInReadRequestError
from app.models.users import User
from tests.conftest import PASSWORD, assert_error


@pytest.fixture
def database(app: FastAPI) -> Database:
    db: Database = app.state.db
    return db


async def test_read_session_refuses_to_flush_a_new_row(database: Database) -> None:
    async with database.reads() as session:
        session.add(User(email="sneaky@example.com", hashed_password=PASSWORD))
        with pytest.raises(WriteInReadRequestError):
            await session.flush()


async def test_read_session_refuses_a_bulk_update(database: Database) -> None:
    async with database.reads() as session:
        with pytest.raises(WriteInReadRequestError):
            await session.execute(update(User).values(full_name="everyone"))


async def test_read_session_still_reads(database: Database, user: User) -> None:
    async with database.reads() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 1


@pytest.mark.parametrize(
    ("method", "read_only"), [("GET", True), ("OPTIONS", True), ("POST", False), ("PATCH", False)]
)
async def test_safe_methods_get_the_read_only_session(
    app_factory: Callable[..., FastAPI], method: str, read_only: bool
) -> None:
    app = app_factory()

    async def which_session(session: SessionDep) -> bool:
        return isinstance(session.sync_session, ReadOnlySession)

    app.add_api_route("/which-session", which_session, methods=[method])
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        response = await client.request(method, "/which-session")
    assert response.json() is read_only


async def test_a_get_route_that_writes_fails_loudly_and_writes_nothing(
    app_factory: Callable[..., FastAPI], user: User
) -> None:
    app = app_factory()
    email = f"written-by-get-{uuid.uuid4().hex[:8]}@example.com"

    async def careless_read(session: SessionDep) -> None:
        session.add(User(email=email, hashed_password=PASSWORD))
        await session.flush()

    app.add_api_route("/careless-read", careless_read, methods=["GET"])
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get("/careless-read")
        assert response.status_code == 500
        assert_error(response.json(), "INTERNAL_ERROR")
    async with app.state.db.reads() as session:
        assert await session.scalar(select(User).where(User.email == email)) is None
